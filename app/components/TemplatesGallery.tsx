import { credentialTypes } from "@algorythmos/domain";
import { Form, useNavigation } from "@remix-run/react";
import { useId, useState } from "react";
import type { TemplateSummary } from "~/lib/operations";

export interface TemplatesGalleryProps {
  templates: TemplateSummary[];
  workspaceId: string;
  /** Why "Use template" cannot be used (a viewer's role); null when the caller may create workflows. */
  disabledReason: string | null;
  /** What went wrong with the last "Use template" (an unknown template, a refused create). */
  error?: string | null;
}

/** A credential type as people read it ("OpenAI (or compatible) API key"); an unknown one as its name. */
const credentialLabel = (type: string) => (credentialTypes as Record<string, { label: string } | undefined>)[type]?.label ?? type;

/**
 * The templates gallery (issue #17): one card per template with what it needs, filterable by category. "Use
 * template" posts intent `template` to the workflows route, which creates the workflow and opens the editor.
 */
export function TemplatesGallery({ templates, workspaceId, disabledReason, error }: TemplatesGalleryProps) {
  const navigation = useNavigation();
  const [category, setCategory] = useState<string | null>(null);
  const id = useId();
  // Categories in the order the gallery first shows them, so the filters read like the cards below.
  const categories = [...new Set(templates.map((template) => template.category))];
  const shown = category ? templates.filter((template) => template.category === category) : templates;
  const creating = navigation.state !== "idle" && navigation.formData?.get("intent") === "template" ? String(navigation.formData.get("templateId")) : null;

  return (
    <div className="templates-gallery">
      <div className="template-filters" role="group" aria-label="Filter templates by category">
        <button type="button" aria-pressed={category === null} onClick={() => setCategory(null)}>
          All <span className="template-count">{templates.length}</span>
        </button>
        {categories.map((name) => (
          <button key={name} type="button" aria-pressed={category === name} onClick={() => setCategory(name)}>
            {name} <span className="template-count">{templates.filter((template) => template.category === name).length}</span>
          </button>
        ))}
      </div>
      {disabledReason ? (
        <p className="template-locked small" id={`${id}-reason`}>
          {disabledReason}
        </p>
      ) : null}
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="template-grid" aria-label={category ? `${category} templates` : "Templates"}>
        {shown.map((template) => (
          <li key={template.id} className="template-card" data-testid={`template-${template.id}`}>
            <span className="template-category">{template.category}</span>
            <h3 id={`${id}-${template.id}`}>{template.title}</h3>
            <p className="template-description">{template.description}</p>
            <p className="template-needs small">
              {template.credentialTypes.length ? `Needs: ${template.credentialTypes.map(credentialLabel).join(" · ")}` : "No credentials needed"}
            </p>
            <Form method="post" action="/workflows?index" className="template-use">
              <input type="hidden" name="intent" value="template" />
              <input type="hidden" name="templateId" value={template.id} />
              <input type="hidden" name="workspaceId" value={workspaceId} />
              <button
                type="submit"
                className="primary"
                disabled={!!disabledReason || creating !== null}
                aria-label={`Use template ${template.title}`}
                aria-describedby={disabledReason ? `${id}-reason` : undefined}
              >
                {creating === template.id ? "Creating…" : "Use template"}
              </button>
            </Form>
          </li>
        ))}
      </ul>
    </div>
  );
}
