import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = { title: "Training Studio", description: "Datasets, training and inference for vision models" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const lang = (await cookies()).get("studio-lang")?.value;
  return (
    <html lang={lang === "zh" ? "zh" : "en"}>
      <body>
        <Providers lang={lang === "zh" || lang === "en" ? lang : null}>{children}</Providers>
      </body>
    </html>
  );
}
