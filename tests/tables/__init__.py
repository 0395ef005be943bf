"""Tests of kit.tables, one file per module of the package (a package, so basenames may repeat tests/)."""
