from django.apps import AppConfig


class LoginLockoutConfig(AppConfig):
    name = "apps.login_lockout"
    label = "login_lockout"
    verbose_name = "Login lockout"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from apps.login_lockout.axes_hooks import api_sign_in_throttled

        user_locked_out.connect(api_sign_in_throttled, dispatch_uid="login_lockout.api_sign_in_throttled")
