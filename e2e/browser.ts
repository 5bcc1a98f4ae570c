import { chromium, type Browser, type Page } from "playwright-core";

export const baseUrl = process.env.E2E_BASE_URL ?? "http://localhost:3901";
export const admin = { email: process.env.E2E_ADMIN_EMAIL ?? "admin@e2e.local", password: process.env.E2E_ADMIN_PASSWORD ?? "" };

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

export async function logIn(page: Page, email = admin.email, password = admin.password) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel(/email|邮箱/i).fill(email);
  await page.getByLabel(/password|密码/i).fill(password);
  await page.getByRole("button", { name: /log in|登录/i }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}
