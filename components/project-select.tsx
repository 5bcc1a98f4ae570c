"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "./trpc";

/** The project a form imports into: the team's `default` project until the user picks another. */
export function useProjectChoice() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const [projectId, setProjectId] = useState<number | null>(null);
  useEffect(() => {
    if (projectId === null && projects.data?.length) setProjectId((projects.data.find((p) => p.name === "default") ?? projects.data[0]).id);
  }, [projects.data, projectId]);
  return { projects: projects.data ?? [], projectId, setProjectId };
}

export function ProjectSelect({ choice }: { choice: ReturnType<typeof useProjectChoice> }) {
  return (
    <select value={choice.projectId ?? ""} onChange={(e) => choice.setProjectId(Number(e.target.value))} aria-label="project">
      {choice.projects.map((p) => (
        <option key={p.id} value={p.id}>
          {p.name}
        </option>
      ))}
    </select>
  );
}
