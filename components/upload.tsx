"use client";

import { useState, type FormEvent } from "react";
import { useT } from "./i18n";

/** An upload the server refused (its status and detail), or one that never reached it (status null). */
class UploadError extends Error {
  constructor(
    readonly status: number | null,
    readonly detail?: string,
  ) {
    super(detail ?? `upload failed (${status ?? "network error"})`);
  }
}

/** XHR rather than fetch: only XHR reports upload progress. Resolves with the created row (201). */
function postForm(url: string, form: FormData, onProgress: (percent: number) => void): Promise<{ id: number }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((100 * e.loaded) / e.total));
    xhr.onload = () => {
      let body: { id?: number; detail?: string } = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        // A proxy's HTML error page: the status says enough.
      }
      if (xhr.status === 201) resolve(body as { id: number });
      else reject(new UploadError(xhr.status, body.detail));
    };
    xhr.onerror = () => reject(new UploadError(null));
    xhr.send(form);
  });
}

/**
 * A form's streamed multipart upload to `url`: `submit` is its onSubmit (`prepare` adjusts the fields
 * first); while it sends, `uploading` and `percent`; when refused, `error` in the page's language.
 */
export function useUpload(url: string, { prepare, onUploaded }: { prepare?: (form: FormData) => void; onUploaded: (row: { id: number }) => void }) {
  const { t, withDetail } = useT();
  const [state, setState] = useState<{ percent: number; error: string | null } | null>(null);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formElement = e.currentTarget;
    const form = new FormData(formElement);
    prepare?.(form);
    setState({ percent: 0, error: null });
    try {
      const row = await postForm(url, form, (percent) => setState({ percent, error: null }));
      setState(null);
      formElement.reset();
      onUploaded(row);
    } catch (err) {
      const { status, detail } = err as UploadError;
      setState({ percent: 0, error: status === null ? t("uploadNetworkError") : withDetail(t("uploadFailed", { status }), detail) });
    }
  }

  return { submit, uploading: state !== null && state.error === null, percent: state?.percent ?? 0, error: state?.error ?? null };
}
