// Reading the report's embedded data and showing a readable message where a widget fails.

export const DATA_ELEMENT_ID = "nbviz-report-data";

/** The JSON payload nbviz.report.to_html wrote into the page. */
export function readReportData(doc = document) {
  const element = doc.getElementById(DATA_ELEMENT_ID);
  if (!element) throw new Error(`this page has no #${DATA_ELEMENT_ID} element: it is not an nbviz report`);
  const data = JSON.parse(element.textContent);
  if (data.format !== "nbviz-report/1") {
    throw new Error(`unsupported report format ${JSON.stringify(data.format)}; expected "nbviz-report/1"`);
  }
  return data;
}

export function showWidgetError(el, error) {
  const box = el.ownerDocument.createElement("div");
  box.className = "nbviz-report-error";
  box.textContent = `This widget could not be shown: ${error?.message ?? error}`;
  el.replaceChildren(box);
}

export function addStyle(doc, css) {
  if (!css) return;
  const style = doc.createElement("style");
  style.textContent = css;
  doc.head.appendChild(style);
}
