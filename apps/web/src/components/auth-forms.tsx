"use client";

import { signIn } from "next-auth/react";
import Link from "next/link";
import { authPagePath } from "@/lib/paths";
import { useState, type FormEvent, type InputHTMLAttributes } from "react";
import { passwordWeakness, signUpBody } from "@atelier/protocol";
import { Alert } from "@/components/alert";

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

/**
 * A labelled input with its error (and optional hint) wired for screen readers: the element ids
 * and the test id all derive from `id`.
 */
function TextField({
  id,
  label,
  error,
  hint,
  ...input
}: { id: string; label: string; error?: string; hint?: { text: string; className: string } } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "id" | "className"
>) {
  const describedBy = (error ? `${id}-error` : hint ? `${id}-hint` : undefined) satisfies string | undefined;
  return (
    <div>
      <label htmlFor={id} className="label">
        {label}
      </label>
      <input
        id={id}
        className="field"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        data-testid={id}
        {...input}
      />
      {/* the error replaces the hint: the same problem is said once */}
      {hint && !error && (
        <p id={`${id}-hint`} className={`mt-1.5 text-xs ${hint.className}`}>
          {hint.text}
        </p>
      )}
      <Alert id={`${id}-error`} className="mt-1.5 text-sm" message={error} />
    </div>
  );
}

const UNREACHABLE = "The server could not be reached. Check your connection and try again.";

/**
 * Signs in with email and password and, on success, loads `returnTo` (a full load, so the
 * server renders the signed-in page). Resolves with what went wrong otherwise.
 */
async function signInAndReturn(
  email: string,
  password: string,
  returnTo: string,
): Promise<{ error: string | undefined; code: string | undefined }> {
  const res = await signIn("credentials", { email, password, redirect: false, redirectTo: returnTo });
  if (res && !res.error) {
    window.location.assign(returnTo);
    return { error: undefined, code: undefined };
  }
  return { error: res?.error ?? "unknown", code: res?.code };
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
      const failed = await signInAndReturn(email, password, returnTo);
      if (failed.error === undefined) return;
      setError(describeSignInError(failed.error, failed.code));
    } catch {
      setError(UNREACHABLE);
    }
    setBusy(false);
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" data-testid="signin-form" noValidate>
      <TextField
        id="signin-email"
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <TextField
        id="signin-password"
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <Alert message={error} className="rounded-lg bg-danger/8 px-3 py-2 text-sm" testId="signin-error" />
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
        <Link className="link" href={authPagePath("signup", returnTo)}>
          Create an account
        </Link>
      </p>
    </form>
  );
}

type Field = "name" | "email" | "password";
const SIGN_UP_FIELDS: { field: Field; label: string; type: string; autoComplete: string }[] = [
  { field: "name", label: "Your name", type: "text", autoComplete: "name" },
  { field: "email", label: "Email", type: "email", autoComplete: "email" },
  { field: "password", label: "Password", type: "password", autoComplete: "new-password" },
];

export function SignUpForm({ returnTo }: { returnTo: string }) {
  const [values, setValues] = useState({ name: "", email: "", password: "" });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const weakness = values.password ? passwordWeakness(values.password, values.email) : null;
  const passwordHint = {
    text: values.password
      ? weakness
        ? `Still weak: ${weakness}.`
        : "Strong enough."
      : "At least 8 characters, letters mixed with a number or symbol.",
    className: values.password && !weakness ? "text-ok" : "text-muted",
  };

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
      const failed = await signInAndReturn(values.email, values.password, returnTo);
      if (failed.error === undefined) return;
      setFormError("Your account was created, but signing in failed. Please sign in.");
    } catch {
      setFormError(UNREACHABLE);
    }
    setBusy(false);
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" data-testid="signup-form" noValidate>
      {SIGN_UP_FIELDS.map(({ field, label, type, autoComplete }) => (
        <TextField
          key={field}
          id={`signup-${field}`}
          label={label}
          name={field}
          type={type}
          autoComplete={autoComplete}
          value={values[field]}
          onChange={set(field)}
          error={errors[field]}
          hint={field === "password" ? passwordHint : undefined}
        />
      ))}
      <Alert message={formError} className="rounded-lg bg-danger/8 px-3 py-2 text-sm" testId="signup-error" />
      <button type="submit" className="btn btn-primary w-full" disabled={busy} data-testid="signup-submit">
        {busy ? "Creating your account…" : "Create account"}
      </button>
      <p className="text-center text-sm text-muted">
        Already have an account?{" "}
        <Link className="link" href={authPagePath("signin", returnTo)}>
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
