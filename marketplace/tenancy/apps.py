from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "marketplace.tenancy"
    label = "tenancy"
