import { flag } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";
import { docFor, overview, presetJson, presetsOverview, stdPresets } from "../../compiler/doc.js";
import { families, jsonSchema } from "../../compiler/families.js";

export const command: Command = {
  name: "doc",
  usage: "mmfmc doc [FAMILY | PRESET] [--presets] [--json]",
  help: `Describes the families of the language (vision, connector, language, dataset, schedule,
optimizer), the kinds without families (stage, eval, model, experiment) and the presets of the
standard library: every field with its type, default and meaning, generated from the JSON Schemas
the checker uses; a preset with every field resolved, its parameters and its checkpoint.

  mmfmc doc                    the list of families by kind
  mmfmc doc clip_vit           one family in full (a name shared by two kinds, like \`linear\`, shows both)
  mmfmc doc clip_vit_l14_336   a std preset: its fields resolved, parameters, image tokens, Hugging Face id
  mmfmc doc --presets          every std preset by kind
  mmfmc doc --json             every family's JSON Schema (with a NAME: that family's, or that preset)`,
  options: { json: { value: false }, presets: { value: false } },
  async run(args, out) {
    const [name, ...extra] = args.positionals;
    if (extra.length) throw new UsageError(`unexpected argument \`${extra[0]}\``);
    if (flag(args, "presets")) {
      if (name) throw new UsageError("--presets lists every preset; give a NAME without it for one");
      out.data(flag(args, "json") ? JSON.stringify(stdPresets().map(presetJson), null, 2) : presetsOverview());
      return Exit.Ok;
    }
    if (flag(args, "json")) {
      const chosen = name ? families.filter((f) => f.name === name) : families;
      const presets = name ? stdPresets().filter((p) => p.name === name) : [];
      if (chosen.length === 0 && presets.length === 0) throw new UsageError(`unknown family or preset \`${name}\``);
      const entries = [...chosen.map((f) => ({ name: f.name, kind: f.kind, description: f.description, schema: jsonSchema(f) })), ...presets.map(presetJson)];
      out.data(JSON.stringify(entries, null, 2));
      return Exit.Ok;
    }
    if (!name) {
      out.data(overview());
      return Exit.Ok;
    }
    const doc = docFor(name);
    if (!doc.text) throw new UsageError(`unknown family or preset \`${name}\`${doc.suggestion ? `; did you mean \`${doc.suggestion}\`?` : ""} (\`mmfmc doc\` lists the families, \`mmfmc doc --presets\` the presets)`);
    out.data(doc.text);
    return Exit.Ok;
  },
};
