import { requirePageCaller } from "@/server/auth/page";
import { ApiKeysView } from "./api-keys-view";
import { PasswordForm } from "./password-form";

export default async function SettingsPage() {
  const caller = await requirePageCaller();
  return (
    <>
      <ApiKeysView teamName={caller.teamName} />
      <PasswordForm />
    </>
  );
}
