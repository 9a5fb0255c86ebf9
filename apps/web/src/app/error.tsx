"use client";

import Link from "next/link";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="mx-auto flex w-full max-w-lg flex-1 flex-col items-center justify-center px-5 py-20 text-center">
      <p className="eyebrow">Something went wrong</p>
      <h1 className="mt-2 text-3xl">The paint did not dry</h1>
      <p className="mt-3 text-muted" role="alert">
        This page could not be shown. Your saved work is safe. {error.digest ? `(reference ${error.digest})` : ""}
      </p>
      <div className="mt-8 flex gap-3">
        <button type="button" className="btn btn-primary" onClick={reset}>
          Try again
        </button>
        <Link href="/" className="btn btn-secondary">
          Home
        </Link>
      </div>
    </main>
  );
}
