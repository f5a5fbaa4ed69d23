from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.services.promotions import on_organization_created
        from marketplace.tenancy.signals import organization_created

        organization_created.connect(on_organization_created,
                                     dispatch_uid="billing.signup_credit")
