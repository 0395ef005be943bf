"""What went wrong, and what to do: `explain` reads an error (the SDK's, the API's, the kit's) and names
its likely cause, the fix, and the notebook section that shows it.

Sources: the error strings chatxdk 0.5.2 raises (made to fail for real in tests/test_inspector.py),
the problems the sandbox answers, wire-format §7 and X's troubleshooting page (`xchat/troubleshooting.mdx`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from kit.errors import APIError, Problem

__all__ = ["RULES", "Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    """The likely `cause` of an error, the `fix`, and `see`: the notebook section that shows it.

    `rule` names which known error matched ("unknown" when none did); `text` is the message read.
    """

    cause: str
    fix: str
    see: str
    rule: str = "unknown"
    text: str = ""

    def __str__(self) -> str:
        return f"cause: {self.cause}\nfix:   {self.fix}\nsee:   {self.see}"


_NB1 = "01-identities.ipynb"
_NB2 = "02-wrapping-the-conversation-key.ipynb"
_NB3 = "03-signing-and-describing.ipynb"
_NB4 = "04-the-init-call.ipynb"
_NB5 = "05-the-recipient.ipynb"
_NB6 = "06-rotation-and-groups.ipynb"
_NB8 = "08-inspector.ipynb"

#: (rule, pattern over the message, cause, fix, see), tried in order; the first match wins.
RULES: tuple[tuple[str, str, str, str, str], ...] = (
    # ------------------------------------------------------------ the SDK (chatxdk) and the kit's own errors
    ("signature-version", r"signature_version \S+ is no longer accepted|signature_version \S+ is not accepted|signature_version .* is not supported",
     "the signature_version is below the accepted floor (2; key changes need 6 or more) or not digits: version 1 "
     "signed a text without the event type and key version",
     "send signature_version \"7\", the one the SDK and kit.prepare_key_init write",
     f"{_NB3} § What a recipient checks"),
    ("ecdsa-mismatch", r"ECDSA mismatch|does not verify: the bytes or the signing key differ",
     "the signature does not match the text the verifier rebuilt: the signed text is not what the sender signed "
     "(a hyphen 'A-B' or a reversed pair where 'min:max' belongs, another message_id, the MCE or the plaintext "
     "signed instead of the sealed blob, padded or URL-safe base64 inside it), the bytes changed after signing, "
     "or the signer's key is another one",
     "sign exactly ConversationKeyChangeEvent,{message_id},{sender_id},{min:max},{version},{key} (or the "
     "MessageCreateEvent text over the sealed blob) as kit.signature writes it, and store min:max in the event; "
     "paste the signed text into kit.inspect to see which part is off",
     f"{_NB3} § The v7 payload; {_NB5} § A forged key change"),
    ("no-signing-key", r"signature missing or no matching signing key|no signing key for user|carries no message_event_signature",
     "no usable signing key for the sender at the signature's public_key_version: the entry is missing, names "
     "another version (the sender rotated keys), lacks identity_public_key or identity_public_key_signature (the "
     "SDK ignores an entry whose binding does not verify), or the event carries no signature",
     "pass the sender's keys straight from GET /2/users/public_keys, every field (user_id, public_key_version, "
     "public_key = the signing key, identity_public_key, identity_public_key_signature), at the version the event "
     "names; and the version given to set_identity must be the registered public_key_version",
     f"{_NB5} § Verify and unwrap; {_NB1} § The binding signatures"),
    ("signature-length", r"Invalid signature length|must decode to 64 bytes|must be 64 bytes \(r‖s\)",
     "the signature is not 64 raw bytes r‖s in standard base64: URL-safe base64, a DER-encoded signature, or a "
     "truncated string",
     "send standard base64 of the raw 64 bytes r‖s, unpadded (86 characters) for action and message signatures",
     f"{_NB3} § Same input, same signature (RFC 6979)"),
    ("key-version-missing", r"but no matching key found|was sealed with conversation key version|no key for this conversation key version",
     "the message was sealed with a conversation key version whose key you do not hold: the key-change event for "
     "that version was not in the batch, or you were not a participant of it (or were, at another key version)",
     "pass the conversation's key-change events with the messages (meta.conversation_key_events) to "
     "decrypt_events / kit.Keyring, or the matching {version: key} map; check a key change exists for that version",
     f"{_NB5} § Decrypt the first message; {_NB6} § Rotate"),
    ("no-entry", r"has no entry for user .* at key version",
     "the key change wraps no key for your user id at your key version: you are not a participant, or your "
     "identity's version differs from the one the sender wrapped to",
     "load your identity with the version you registered (import_keys(version=...) / set_identity); ask the sender "
     "to rotate with your current public keys",
     f"{_NB5} § Verify and unwrap"),
    ("decryption-failed", r"Decryption failed|does not open|DecryptionError",
     "a tag check failed: the wrapped key was wrapped to another identity key (new keys since, another version), "
     "the conversation key is the wrong one, the API's encrypted string was passed where the raw 32-byte key "
     "belongs, or a byte changed",
     "unwrap with the identity the entry names (user_id and public_key_version) and pass the raw 32-byte key it "
     "returns; flip nothing",
     f"{_NB2} § Unwrap; {_NB2} § Flip one byte"),
    ("conversation-id-needed", r"pass conversation_id explicitly|cannot derive a conversation id",
     "more than two users and no conversation id: a group key change needs its g... id",
     "pass conversation_id (the g... id from POST /2/chat/conversations/group/initialize)",
     f"{_NB6} § A group of several members"),
    # ------------------------------------------------------------ the API's problems (as the sandbox answers them)
    ("path-id-colon", r"path parameter id: '[0-9]+:[0-9]+'|path parameter id.*does not match",
     "the URL path names the conversation in a form the API does not take: 'A:B' is the canonical form for "
     "signatures and events; paths take the hyphen form 'A-B', the bare recipient id, or a g... id",
     "use init.path_id (ConversationId.parse(x).path): colon to hyphen",
     f"{_NB4} § Which id goes where"),
    ("sdk-field-names", r"encrypted_conversation_key is required|'encrypted_conversation_key' is a required|encrypted_key|(?<!public_)key_version' is a required",
     "the body uses the SDK's names: the SDK's participant entries say encrypted_key (and take key_version as "
     "input), the API wants encrypted_conversation_key and public_key_version",
     "rename encrypted_key to encrypted_conversation_key (and key_version to public_key_version) when building the "
     "body, or use kit.prepare_key_init's body as is",
     f"{_NB4} § Build the request"),
    ("signing-fields-missing", r"message_event_signature: '(signature|public_key_version|signature_version)' is a required|message_event_signature.* is required",
     "an action signature lacks one of signature, public_key_version, signature_version: the API validates action "
     "signatures at its boundary",
     "send every action signature the prepare step returned, each with all three fields",
     f"{_NB4} § When it goes wrong: problems"),
    ("no-action-signatures", r"action_signatures must hold|has no conversationKeyChangeEvent",
     "no signed key change among the action signatures (missing, empty, or a detail of another kind)",
     "send all the action signatures the prepare step returned (group create and member add return two)",
     f"{_NB4} § When it goes wrong: problems"),
    ("version-mismatch", r"is not a registered key version of user|says conversation_key_version",
     "a version does not match: the signature's public_key_version is not the caller's registered key version, a "
     "participant's public_key_version is not theirs, or the detail's conversation_key_version differs from the "
     "body's",
     "use the public_key_version the registration answered (the one set_identity / Identity.version holds) and "
     "the same conversation_key_version in the detail and the body; fetch the peer's latest keys",
     f"{_NB4} § When it goes wrong: problems; {_NB1} § Registering on the sandbox"),
    ("participants-differ", r"differ from the participants in|must wrap the key for every participant|more than once",
     "the participants in the body and in the signed detail differ, or someone is missing or listed twice",
     "wrap the key for every participant (the sender too) and send the body and detail that prepare_key_init made together",
     f"{_NB3} § The event detail, field by field; {_NB4} § Build the request"),
    ("wrapped-key-shape", r"must decode to 113 bytes",
     "an encrypted_conversation_key is not a 113-byte wrapped key: the raw conversation key, or a broken string",
     "send the wrapped key (base64 of 113 bytes, 152 characters), never the raw key",
     f"{_NB2} § The 113 bytes"),
    ("not-newer", r"is not newer than the latest key version",
     "a rotation with a key version that is not newer than the conversation's latest one (or a replay with changes)",
     "rotate with a fresh, larger version: kit.new_version() (the time in milliseconds)",
     f"{_NB6} § Rotate; {_NB6} § A replayed older key change"),
    ("unsigned-message", r"encoded_message_event_signature is required",
     "a message without its signature: recipients reject unsigned messages",
     "send encoded_message_event_signature with the message (prepare_message writes it)",
     f"{_NB5} § Decrypt the first message"),
    ("no-key-change", r"which no key change of .* introduced|has no events yet: initialize its keys first",
     "a message (or a read) before the conversation has a key: no key change introduced that version",
     "initialize the conversation's keys first (POST .../keys), then send with that version",
     f"{_NB4} § Send it"),
    ("no-public-keys", r"has registered no public keys|Peer has no public keys",
     "the peer has not registered public keys yet (not onboarded)",
     "ask them to register (POST /2/users/{id}/public_keys), then fetch their keys again",
     f"{_NB1} § Registering on the sandbox"),
    ("no-such-user", r"does not exist in this sandbox",
     "no such user in the sandbox",
     "create the user first (connect().sandbox_user(name)) and use the id it returns",
     f"{_NB4} § Send it"),
    ("unauthorized", r"no Authorization header|access token|Unauthorized|not-authorized-for-resource.*401",
     "no access token, or one the server does not know",
     "send Authorization: Bearer <token> (a kit client made by connect() or as_user() does)",
     f"{_NB4} § Live mode (off unless you set a token)"),
    ("not-participant", r"is not a participant of conversation|is not a member of group|initialized by another user",
     "the caller is not in this conversation",
     "act as one of its members; a 1:1 path must include the caller",
     f"{_NB4} § Which id goes where"),
    ("group-state", r"was not initialized|was initialized but not created|already exists",
     "a group call out of order: initialize, then create, once",
     "POST /2/chat/conversations/group/initialize, then POST .../group with the id it returned",
     f"{_NB6} § A group of several members"),
    ("method", r"is not allowed on",
     "this endpoint does not take that HTTP method",
     "use the method the answer's Allow header names",
     f"{_NB4} § Send it"),
    ("too-large", r"larger than the|bytes; the sandbox accepts at most",
     "the request body is over the server's size limit",
     "send fewer participants per call, or a smaller message",
     f"{_NB6} § What wrapping costs"),
    ("rate-limited", r"rate limit|Too Many Requests|too many requests",
     "too many requests for this user and endpoint in the window",
     "wait until the x-rate-limit-reset time (the client can retry: max_retries=)",
     f"{_NB4} § Send it"),
    ("storage", r"database|cannot store",
     "the sandbox cannot reach or write its database (a full disk, a read-only file)",
     "free space or point --db at a writable file, then retry",
     f"{_NB4} § Send it"),
    ("pagination", r"pagination_token",
     "a pagination token the server did not issue (or from another query)",
     "pass the meta.next_token of the previous page unchanged",
     f"{_NB5} § Fetch the events"),
    ("body-not-json", r"request body (is required|must be application/json|is not valid JSON)",
     "the body is missing or not JSON",
     "send the body as JSON with Content-Type: application/json",
     f"{_NB4} § Send it"),
    ("placeholder", r"<string>",
     "a placeholder value from the API reference's sample request",
     "build the values with kit.prepare_key_init (or the SDK's prepare_conversation_key_change)",
     f"{_NB8} § The API reference's sample"),
)
#: Explanations by problem type, when no detail pattern matched.
BY_TYPE: dict[str, tuple[str, str, str]] = {
    "invalid-request": ("the request breaks the schema or a rule of the endpoint (the detail names the field)",
                        "fix the field the detail and 'parameter' name; kit.inspect the body to see every field",
                        f"{_NB4} § When it goes wrong: problems"),
    "not-authorized-for-resource": ("the caller may not act on this resource (no or unknown token, not a participant)",
                                    "authenticate as a member of the conversation",
                                    f"{_NB4} § Which id goes where"),
    "resource-not-found": ("the user, conversation, group or key the request names does not exist (yet)",
                           "create it first, or check the id", f"{_NB4} § Send it"),
    "resource-unavailable": ("the server cannot serve this now (rate limit or storage)",
                             "wait and retry (see the x-rate-limit-* headers)", f"{_NB4} § Send it"),
    "internal-error": ("the server failed on its own: nothing was stored",
                       "retry; if it persists in the sandbox, it is a bug worth reporting", f"{_NB4} § Send it"),
}  # fmt: skip


def _text_of(error: Any) -> tuple[str, str, int | None]:
    """(message, problem kind, status) of anything `explain` takes."""
    if isinstance(error, APIError):
        p = error.problem
        return p.detail or p.title, p.kind, p.status if p.status is not None else error.status
    if isinstance(error, Problem):
        return error.detail or error.title, error.kind, error.status
    if isinstance(error, dict):
        return _text_of(Problem.from_dict(error)) if "type" in error else (json.dumps(error)[:2000], "", None)
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}", "", None
    text = str(error) if not isinstance(error, (bytes, bytearray)) else bytes(error).decode("utf-8", "replace")
    stripped = text.strip()
    if stripped.startswith("{") and len(stripped) < 1_000_000:
        try:
            obj = json.loads(stripped)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict) and "type" in obj:
            return _text_of(Problem.from_dict(obj))
        if isinstance(obj, dict) and isinstance(obj.get("errors"), list) and obj["errors"] and isinstance(obj["errors"][0], dict):
            return _text_of(obj["errors"][0])
    return text, "", None


def explain(error: Any) -> Explanation:
    """Why an error happened and what to do: a `kit.APIError`, a `Problem`, a problem's JSON text,
    an SDK (chatxdk) error string, or any kit error. Unknown errors get a general answer, never an exception."""
    message, kind, status = _text_of(error)
    probe = message[:20_000]
    for rule, pattern, cause, fix, see in RULES:
        if re.search(pattern, probe):
            return Explanation(cause, fix, see, rule, message)
    if status == 429:
        rule = next(r for r in RULES if r[0] == "rate-limited")
        return Explanation(rule[2], rule[3], rule[4], rule[0], message)
    if kind in BY_TYPE:
        cause, fix, see = BY_TYPE[kind]
        return Explanation(cause, fix, see, kind, message)
    return Explanation(
        "not an error the kit knows",
        "kit.inspect the value it was about (a body, an event, a signed text): its notes say what is odd",
        f"{_NB8} § Three errors explained",
        "unknown",
        message,
    )
