"""Staff sign-in: password, then a second factor; idle time-out and signing out everywhere."""
