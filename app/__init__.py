"""GridDesk: the branch supervisor's workbench for the community grid programme."""

__version__ = "0.1.0"
