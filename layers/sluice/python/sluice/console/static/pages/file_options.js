// How a file is read, as the upload page and a dataset's page offer it: the delimiter and
// decimal mark to choose ("" is detected from the file: null in the settings).

import { h } from "../ui.js";

export const DELIMITERS = [["", "detected"], [",", "comma ,"], [";", "semicolon ;"], ["\t", "tab"], ["|", "pipe |"], [" ", "space-aligned"]];
export const DECIMALS = [["", "detected"], [".", "point ."], [",", "comma ,"]];

/** A labelled select of ``options`` ([value, text] pairs), ``current`` chosen. */
export function choice(name, label, options, current) {
  return h("label", {}, label, h("select", { name },
    options.map(([value, text]) => h("option", { value, selected: (current ?? "") === value }, text))));
}
