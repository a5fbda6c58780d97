// Adds an MCP server as a connector, with an optional bearer token and
// header saved as its default credential, then opens its page (which
// lists its tools).
"use strict";
(function () {
  const tm = window.tm;
  const form = document.getElementById("add-connector");
  if (!form) return;
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const f = form.elements;
    const button = document.getElementById("create-connector");
    button.disabled = true;
    const body = { protocol: "mcp", name: f.name.value.trim(), server: f.server.value.trim(), description: f.description.value.trim() };
    let conn = null;
    try {
      conn = await tm.api("POST", "/console/api/v1/connectors", body);
      const creds = {};
      if (f.bearer_token.value) creds.bearer_token = f.bearer_token.value;
      const hname = f.header_name.value.trim();
      if (hname) creds.headers = { [hname]: f.header_value.value };
      if (Object.keys(creds).length) {
        await tm.api("POST", "/console/api/v1/connectors/" + encodeURIComponent(conn.id) + "/workspace/credentials",
          { name: "default", credentials: creds, is_default: true });
      }
      location.assign("/console/connectors/" + encodeURIComponent(conn.id));
    } catch (e) {
      button.disabled = false;
      tm.showError(form, conn ? "The connector was added, but its credentials were not saved: " + e.message : e.message);
      if (conn) setTimeout(function () { location.reload(); }, 3000);
    }
  });
})();
