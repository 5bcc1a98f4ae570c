import type { Metadata } from "next";
import { cookies, headers } from "next/headers";
import type { ReactNode } from "react";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "Training Studio",
  description: "Datasets, training and inference for vision models",
  icons: { icon: [{ url: "/favicon.svg", type: "image/svg+xml" }, { url: "/favicon.ico", sizes: "32x32" }] },
};

/** The user's choice (cookie), else the browser's first language. */
async function pageLanguage(): Promise<"en" | "zh"> {
  const chosen = (await cookies()).get("studio-lang")?.value;
  if (chosen === "zh" || chosen === "en") return chosen;
  return /^zh\b/i.test((await headers()).get("accept-language") ?? "") ? "zh" : "en";
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const lang = await pageLanguage();
  return (
    <html lang={lang}>
      <body>
        <Providers lang={lang}>{children}</Providers>
      </body>
    </html>
  );
}
