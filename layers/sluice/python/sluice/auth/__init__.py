"""Who is calling: sign-in against the user pool and the caller's identity."""
