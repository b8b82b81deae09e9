"""The Cognito user pool and the API's app client."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct
from sluice.catalog import UserPoolSpec

from infra.constructs.nag import accept


class Auth(Construct):
    """A user pool that operators fill (no self sign-up) and one public client for the API."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: UserPoolSpec) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{Stack.of(self).stack_name}-{spec.name}",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=False, mutable=True)
            ),
            # From the catalogue, which the local runtime's pool also takes.
            password_policy=cognito.PasswordPolicy(
                min_length=spec.password_min_length,
                require_digits=spec.password_requires_digits,
                require_lowercase=spec.password_requires_lowercase,
                require_uppercase=spec.password_requires_uppercase,
                require_symbols=spec.password_requires_symbols,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Accounts are data too: deleting the stack must not delete the users.
            removal_policy=RemovalPolicy.RETAIN,
        )
        accept(
            self.user_pool,
            "COG1",
            "the catalogue's policy, which the local pool takes too (its demo password "
            "has no capital or symbol): at least 8 characters with a lowercase letter and "
            "a digit; NIST SP 800-63B advises length over composition rules, and operators "
            "create every account",
        )
        accept(
            self.user_pool,
            "COG2",
            "no MFA: POST /auth/token signs in with USER_PASSWORD_AUTH and answers tokens "
            "at once; the API has no step that answers an MFA challenge yet",
        )
        accept(
            self.user_pool,
            "COG8",
            "Essentials, not Plus: Plus's threat protection is billed per active user; "
            "accounts are made by operators only (no self sign-up), and sign-in errors do "
            "not tell whether a user exists",
        )
        self.client = self.user_pool.add_client(
            "ApiClient",
            user_pool_client_name=spec.client_name,
            # A public client: scripts and browsers cannot keep a secret.
            generate_secret=False,
            # USER_PASSWORD_AUTH backs POST /auth/token; CDK always adds
            # ALLOW_REFRESH_TOKEN_AUTH, which backs POST /auth/refresh.
            auth_flows=cognito.AuthFlow(user_password=True),
            # No hosted UI or OAuth redirects: the API is the only way in.
            disable_o_auth=True,
            access_token_validity=Duration.minutes(spec.access_token_minutes),
            id_token_validity=Duration.minutes(spec.access_token_minutes),
            refresh_token_validity=Duration.days(spec.refresh_token_days),
            # "Wrong password" and "no such user" must read the same to a caller.
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
        )
