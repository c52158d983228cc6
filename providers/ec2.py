"""Amazon EC2, and private clouds that speak the EC2 API (an "EC2-compatible endpoint")."""

from __future__ import annotations

from providers.base import Option, Provider


class EC2Provider(Provider):
    """EC2 in an AWS region, or any EC2-compatible endpoint (moto, Eucalyptus, ...)."""

    key = "ec2"
    label = "Amazon EC2 / EC2-compatible"
    options = (
        Option("region", "AWS region, e.g. us-east-1", required=True),
        Option("endpoint", "EC2-compatible endpoint URL; leave out for AWS itself", kind="url"),
        Option("timeout", "Seconds before a provider call is abandoned (default 30)", kind="int"),
        Option("access_key", "Access key id", required=True, secret=True),
        Option("secret_key", "Secret access key", required=True, secret=True),
    )
