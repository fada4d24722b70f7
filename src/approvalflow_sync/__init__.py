"""approvalflow-sync: sync GitHub pull requests to ApprovalFlow change sets."""

try:  # written from the git tag by the build (hatch-vcs); absent in a plain checkout
    from approvalflow_sync._version import __version__ as __version__
except ImportError:  # the action puts its checkout on the path with a .pth: no build
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
