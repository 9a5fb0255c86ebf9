"use client";

import { signIn } from "next-auth/react";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { passwordWeakness, signUpBody } from "@atelier/protocol";

const SIGN_IN_ERRORS: Record<string, string> = {
  invalid_credentials: "That email and password do not match an account. Check them and try again.",
  rate_limited: "Too many failed attempts for this account. Wait 15 minutes, then try again.",
  OAuthAccountNotLinked: "This email already has an account with a password. Sign in with your password instead.",
  AccessDenied: "Sign-in was cancelled or refused.",
  Configuration: "Sign-in is not configured correctly on the server.",
};

function describeSignInError(error: string | undefined, code: string | undefined): string {
  return (
    (code && SIGN_IN_ERRORS[code]) || (error && SIGN_IN_ERRORS[error]) || "Could not sign you in. Please try again."
  );
}

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} className="mt-1.5 text-sm text-danger" role="alert">
      {message}
    </p>
  );
}

export function SignInForm({ returnTo, initialError }: { returnTo: string; initialError?: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(initialError ? describeSignInError(initialError, undefined) : null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await signIn("credentials", { email, password, redirect: false, redirectTo: returnTo });
      if (!res || res.error) {
        setError(describeSignInError(res?.error, res?.code));
        setBusy(false);
        return;
      }
      window.location.assign(returnTo);
    } catch {
      setError("The server could not be reached. Check your connection and try again.");
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" data-testid="signin-form" noValidate>
      <div>
        <label htmlFor="signin-email" className="label">
          Email
        </label>
        <input
          id="signin-email"
          name="email"
          type="email"
          autoComplete="email"
          required
          className="field"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          data-testid="signin-email"
        />
      </div>
      <div>
        <label htmlFor="signin-password" className="label">
          Password
        </label>
        <input
          id="signin-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          className="field"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="signin-password"
        />
      </div>
      {error && (
        <p role="alert" className="rounded-lg bg-danger/8 px-3 py-2 text-sm text-danger" data-testid="signin-error">
          {error}
        </p>
      )}
      <button
        type="submit"
        className="btn btn-primary w-full"
        disabled={busy || !email || !password}
        data-testid="signin-submit"
      >
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p className="text-center text-sm text-muted">
        New here?{" "}
        <Link className="link" href={`/signup?callbackUrl=${encodeURIComponent(returnTo)}`}>
          Create an account
        </Link>
      </p>
    </form>
  );
}

type Field = "name" | "email" | "password";

export function SignUpForm({ returnTo }: { returnTo: string }) {
  const [values, setValues] = useState({ name: "", email: "", password: "" });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const weakness = values.password ? passwordWeakness(values.password, values.email) : null;

  const set = (field: Field) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    setErrors((er) => ({ ...er, [field]: undefined }));
  };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    const parsed = signUpBody.safeParse(values);
    if (!parsed.success) {
      const next: Partial<Record<Field, string>> = {};
      for (const issue of parsed.error.issues) {
        const f = issue.path[0] as Field;
        next[f] ??= issue.message;
      }
      setErrors(next);
      return;
    }
    setBusy(true);
    try {
      const res = await fetch("/api/signup", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(values),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: string; field?: Field };
        if (body.field) setErrors({ [body.field]: body.error });
        else setFormError(body.error ?? `Sign-up failed (${res.status}).`);
        setBusy(false);
        return;
      }
      const signedIn = await signIn("credentials", {
        email: values.email,
        password: values.password,
        redirect: false,
        redirectTo: returnTo,
      });
      if (!signedIn || signedIn.error) {
        setFormError("Your account was created, but signing in failed. Please sign in.");
        setBusy(false);
        return;
      }
      window.location.assign(returnTo);
    } catch {
      setFormError("The server could not be reached. Check your connection and try again.");
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" data-testid="signup-form" noValidate>
      <div>
        <label htmlFor="signup-name" className="label">
          Your name
        </label>
        <input
          id="signup-name"
          name="name"
          autoComplete="name"
          className="field"
          value={values.name}
          onChange={set("name")}
          aria-invalid={!!errors.name}
          aria-describedby="signup-name-error"
          data-testid="signup-name"
        />
        <FieldError id="signup-name-error" message={errors.name} />
      </div>
      <div>
        <label htmlFor="signup-email" className="label">
          Email
        </label>
        <input
          id="signup-email"
          name="email"
          type="email"
          autoComplete="email"
          className="field"
          value={values.email}
          onChange={set("email")}
          aria-invalid={!!errors.email}
          aria-describedby="signup-email-error"
          data-testid="signup-email"
        />
        <FieldError id="signup-email-error" message={errors.email} />
      </div>
      <div>
        <label htmlFor="signup-password" className="label">
          Password
        </label>
        <input
          id="signup-password"
          name="password"
          type="password"
          autoComplete="new-password"
          className="field"
          value={values.password}
          onChange={set("password")}
          aria-invalid={!!errors.password}
          aria-describedby="signup-password-hint signup-password-error"
          data-testid="signup-password"
        />
        <p
          id="signup-password-hint"
          className={`mt-1.5 text-xs ${weakness ? "text-muted" : values.password ? "text-ok" : "text-muted"}`}
        >
          {values.password
            ? weakness
              ? `Still weak: ${weakness}.`
              : "Strong enough."
            : "At least 8 characters, letters mixed with a number or symbol."}
        </p>
        <FieldError id="signup-password-error" message={errors.password} />
      </div>
      {formError && (
        <p role="alert" className="rounded-lg bg-danger/8 px-3 py-2 text-sm text-danger" data-testid="signup-error">
          {formError}
        </p>
      )}
      <button type="submit" className="btn btn-primary w-full" disabled={busy} data-testid="signup-submit">
        {busy ? "Creating your account…" : "Create account"}
      </button>
      <p className="text-center text-sm text-muted">
        Already have an account?{" "}
        <Link className="link" href={`/signin?callbackUrl=${encodeURIComponent(returnTo)}`}>
          Sign in
        </Link>
      </p>
    </form>
  );
}

export function OAuthButtons({
  providers,
  returnTo,
}: {
  providers: { github: boolean; google: boolean };
  returnTo: string;
}) {
  if (!providers.github && !providers.google) return null;
  return (
    <div className="space-y-2">
      {providers.github && (
        <button
          type="button"
          className="btn btn-secondary w-full"
          onClick={() => signIn("github", { redirectTo: returnTo })}
        >
          Continue with GitHub
        </button>
      )}
      {providers.google && (
        <button
          type="button"
          className="btn btn-secondary w-full"
          onClick={() => signIn("google", { redirectTo: returnTo })}
        >
          Continue with Google
        </button>
      )}
      <div className="flex items-center gap-3 py-2 text-xs text-faint" aria-hidden="true">
        <span className="h-px flex-1 bg-line" /> or with email <span className="h-px flex-1 bg-line" />
      </div>
    </div>
  );
}
