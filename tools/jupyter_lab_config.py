# JupyterLab settings for `make lab` (tools/launch.py passes this file with --config).
# The login token comes from the environment, so it is not on the command line where `ps` shows it.
import os

token = os.environ.get("XCHAT_KIT_LAB_TOKEN")
if token:
    c.IdentityProvider.token = token  # noqa: F821  (c is the config object Jupyter provides)
