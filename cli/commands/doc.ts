import { flag } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";
import { docFor, overview } from "../../compiler/doc.js";
import { families, jsonSchema } from "../../compiler/families.js";

export const command: Command = {
  name: "doc",
  usage: "mmfmc doc [FAMILY] [--json]",
  help: `Describes the families of the language (vision, connector, language, dataset, schedule,
optimizer) and the kinds without families (stage, eval, model, experiment): every field with its
type, default and meaning. Generated from the JSON Schemas the checker uses.

  mmfmc doc              the list of families by kind
  mmfmc doc clip_vit     one family in full (a name shared by two kinds, like \`linear\`, shows both)
  mmfmc doc --json       every family's JSON Schema`,
  options: { json: { value: false } },
  async run(args, out) {
    const [name, ...extra] = args.positionals;
    if (extra.length) throw new UsageError(`unexpected argument \`${extra[0]}\``);
    if (flag(args, "json")) {
      const chosen = name ? families.filter((f) => f.name === name) : families;
      if (chosen.length === 0) throw new UsageError(`unknown family \`${name}\``);
      out.data(JSON.stringify(chosen.map((f) => ({ name: f.name, kind: f.kind, description: f.description, schema: jsonSchema(f) })), null, 2));
      return Exit.Ok;
    }
    if (!name) {
      out.data(overview());
      return Exit.Ok;
    }
    const doc = docFor(name);
    if (!doc.text) throw new UsageError(`unknown family \`${name}\`${doc.suggestion ? `; did you mean \`${doc.suggestion}\`?` : ""}`);
    out.data(doc.text);
    return Exit.Ok;
  },
};
