"""The action's ApprovalFlow token: given as is, or a refresh token exchanged before any work.

Atlassian rotates refresh tokens (the one used dies ten minutes later), so each new one is
masked, handed on as the masked output ``refresh-token`` and, when asked, written back to an
Actions secret before other work; a failed write-back stops the run with the steps to recover.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import httpx

from approvalflow_sync.action.inputs import ActionSettings
from approvalflow_sync.action.runner import Runner
from approvalflow_sync.approvalflow.client import TokenSource
from approvalflow_sync.approvalflow.oauth import TOKEN_RETRY, RefreshingToken
from approvalflow_sync.errors import ApprovalFlowSyncError, WriteBackError

REFRESH_OUTPUT = "refresh-token"


@dataclass
class Handoff:
    """Hands each new refresh token on: mask, write back, output; remembers what happened."""

    settings: ActionSettings
    runner: Runner
    run_ends: float | None
    rotated: bool = False
    stored: bool = False

    def __call__(self, new_refresh_token: str) -> None:
        self.rotated = True
        self.runner.mask(new_refresh_token)
        self.runner.set_output(REFRESH_OUTPUT, new_refresh_token, secret=True)
        target = self.settings.credentials.refresh_token_secret
        if target:
            self._write_back(target, new_refresh_token)

    def _write_back(self, target: str, value: str) -> None:
        from approvalflow_sync.github.gateway import GITHUB_RETRY  # noqa: PLC0415
        from approvalflow_sync.github.secrets import write_secret  # noqa: PLC0415

        credentials = self.settings.credentials
        try:
            where = write_secret(
                self.settings.api_url,
                credentials.secrets_token,
                target,
                value,
                repo=self.settings.repository,
                retry=replace(GITHUB_RETRY, run_ends=self.run_ends),
            )
        except Exception as error:  # whatever it is, the user gets the steps, not a traceback
            known = isinstance(error, ApprovalFlowSyncError)
            cause = str(error) if known else f"unexpected {type(error).__name__}"
            raise WriteBackError(
                f"{cause} -- The refresh token rotated but the new one could not be stored in "
                f"{target}. To recover: fix the cause above, then re-run this job within 10 "
                "minutes (the old token still works that long); after that, run "
                "`approvalflow-sync auth init --client-id <ID> --github-repo "
                f"{self.settings.repository or 'OWNER/REPO'} --secret-name {target}` for a new "
                "consent. The new token is also in this step's masked output refresh-token."
            ) from error
        self.stored = True
        self.runner.info(f"Stored the rotated refresh token in {where.describe()}.")

    def warn_if_spent(self) -> None:
        """Loud, when the stored refresh token is now spent and no secret was updated."""
        if not self.rotated or self.stored:
            return
        message = (
            "The ApprovalFlow refresh token rotated: the one stored in your secret stops working "
            "in 10 minutes. Store the new one from this step's output refresh-token, or set "
            "refresh-token-secret and secrets-token so the action writes it back itself."
        )
        self.runner.warning(message, title="approvalflow-sync: refresh token spent")
        self.runner.append_summary(f"> [!WARNING]\n> {message}\n")


def token_for(
    settings: ActionSettings, runner: Runner, http: httpx.Client, *, run_ends: float
) -> tuple[str | TokenSource, Handoff]:
    """The token the client sends; with a refresh token, exchanged now (rotation first), no
    exchange or write-back going on past ``run_ends``."""
    credentials = settings.credentials
    handoff = Handoff(settings, runner, run_ends)
    if credentials.access_token:
        return credentials.access_token, handoff
    if credentials.refresh_token_secret:  # a bad target fails now, before the token is spent
        from approvalflow_sync.github.secrets import parse_secret_target  # noqa: PLC0415

        parse_secret_target(credentials.refresh_token_secret, settings.repository)
    source = RefreshingToken(
        http,
        credentials.token_url,
        credentials.client_id,
        credentials.client_secret,
        credentials.refresh_token,
        on_rotate=handoff,
        on_grant=runner.mask,
        retry=replace(TOKEN_RETRY, run_ends=run_ends),
    )
    source.start()
    return source, handoff
