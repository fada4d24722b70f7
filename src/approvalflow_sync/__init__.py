"""approvalflow-sync: sync GitHub pull requests to ApprovalFlow change sets."""

try:  # written from the git tag by the build (hatch-vcs); absent in a plain checkout
    from approvalflow_sync._version import __version__ as __version__
except ImportError:  # pragma: no cover - the action runs the checkout through a .pth
    __version__ = "0.0.0+unknown"
