from django.apps import AppConfig


class WorkshopsConfig(AppConfig):
    name = "workshops"
    verbose_name = "Workshops"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from workshops.stepup import remember_sign_in

        user_logged_in.connect(remember_sign_in, dispatch_uid="workshops.remember_sign_in")
