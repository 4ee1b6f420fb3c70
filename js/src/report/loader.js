// Widget bundles travel inside the report as text; the browser imports them from blob URLs,
// so nothing is fetched from any server. Each bundle is imported once and shared by its widgets.
const modules = new Map();

export function importModuleFromSource(name, source) {
  if (!modules.has(name)) {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    modules.set(
      name,
      import(url).finally(() => URL.revokeObjectURL(url)),
    );
  }
  return modules.get(name);
}
