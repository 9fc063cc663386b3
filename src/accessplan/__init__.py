"""accessplan: access management as code for Managed Security Service Providers."""

__version__ = "0.1.0"
