import "./globals.css";
import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { SiteHeader } from "@/components/site-header";

export const metadata: Metadata = {
  title: { default: "Atelier — paint together with neural style transfer", template: "%s · Atelier" },
  description:
    "A shared studio for neural style transfer: pick a photo and a painting, tune the run together, watch it paint live.",
};

export const viewport: Viewport = { themeColor: "#f6f2ea", width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="flex min-h-dvh flex-col">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:fixed focus:left-4 focus:top-4 focus:z-50 focus:rounded-md focus:bg-paper focus:px-3 focus:py-2"
        >
          Skip to content
        </a>
        <SiteHeader />
        <div id="main" className="flex flex-1 flex-col">
          {children}
        </div>
        <footer className="mt-16 border-t border-line">
          <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-5 py-6 text-sm text-muted">
            <p>
              <span className="font-serif text-ink">Atelier</span> — after Gatys, Ecker &amp; Bethge,{" "}
              <i>A Neural Algorithm of Artistic Style</i> (2015).
            </p>
            <p>VGG-19 · L-BFGS · made for slow afternoons</p>
          </div>
        </footer>
      </body>
    </html>
  );
}
