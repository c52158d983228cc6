"""factory-boy factories for PCM's models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from clouds.models import (
    AbstractImage,
    AbstractSize,
    AbstractSubnet,
    Cloud,
    Environment,
    ImageMapping,
    Role,
    SizeMapping,
    SubnetMapping,
)
from pcm.tokens import create_token


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"env{n}")


class AbstractSizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AbstractSize
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"size{n}")
    vcpus = 2
    ram_mb = 4096
    disk_gb = 40


class AbstractImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AbstractImage
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"image{n}")


class AbstractSubnetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AbstractSubnet
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"subnet{n}")


class CloudFactory(factory.django.DjangoModelFactory):
    """An EC2-compatible cloud with credentials (set through the encrypting property).

    Its endpoint is a closed loopback port: a test that reaches for a cloud by accident
    gets "cannot reach", never the internet. Tests against moto pass its URL.
    """

    class Meta:
        model = Cloud

    name = factory.Sequence(lambda n: f"LAB-{n}")
    provider = "ec2"
    options = factory.LazyFunction(
        lambda: {"region": "us-east-1", "endpoint": "http://127.0.0.1:9", "timeout": 2}
    )
    credentials = factory.LazyFunction(lambda: {"access_key": "AKIA", "secret_key": "s3cr3t"})


class SizeMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SizeMapping

    cloud = factory.SubFactory(CloudFactory)
    size = factory.SubFactory(AbstractSizeFactory)
    provider_size_id = factory.Sequence(lambda n: f"flavor-{n}")


class ImageMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImageMapping

    cloud = factory.SubFactory(CloudFactory)
    image = factory.SubFactory(AbstractImageFactory)
    provider_image_id = factory.Sequence(lambda n: f"ami-{n:08x}")


class SubnetMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubnetMapping

    cloud = factory.SubFactory(CloudFactory)
    subnet = factory.SubFactory(AbstractSubnetFactory)
    provider_subnet_id = factory.Sequence(lambda n: f"subnet-{n:08x}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ["name"]
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"role{n}")

    @factory.post_generation
    def allowed_sizes(self, create, extracted, **kwargs):
        if create and extracted:
            self.allowed_sizes.set(extracted)

    @factory.post_generation
    def allowed_images(self, create, extracted, **kwargs):
        if create and extracted:
            self.allowed_images.set(extracted)

    @factory.post_generation
    def allowed_subnets(self, create, extracted, **kwargs):
        if create and extracted:
            self.allowed_subnets.set(extracted)


def api_key(user, *, read_only: bool = False, **options) -> str:
    """The key of a new API token of `user`, made as the admin and `pcm_token` make them."""
    return create_token(user, read_only=read_only, **options)[1]
