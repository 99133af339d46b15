// Draws "Flag as <option>" buttons from the collector's /v1/config and posts a flag on each click.
// The collector and the key come from the page's <meta> tags; ?collector=...&key=... override them.
(function () {
  const params = new URLSearchParams(window.location.search);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const collector = (params.get("collector") || meta("flagpipe-collector")).replace(/\/$/, "");
  const key = params.get("key") || meta("flagpipe-key");
  const headers = { Authorization: `Bearer ${key}` };
  const status = document.getElementById("status");

  async function flag(option) {
    const body = {
      values: {
        prompt: document.getElementById("prompt").textContent,
        answer: document.getElementById("answer").textContent,
      },
      option: option.value,
      app: "web",
    };
    const response = await fetch(`${collector}/v1/flags`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    status.textContent = response.ok ? `Flagged as ${option.label} (${answer.id})` : `Not flagged: ${answer.message}`;
  }

  async function draw() {
    const response = await fetch(`${collector}/v1/config`, { headers });
    if (!response.ok) {
      status.textContent = `The collector refused: HTTP ${response.status}`;
      return;
    }
    const config = await response.json();
    const buttons = document.getElementById("buttons");
    for (const option of config.options.length ? config.options : [{ label: "wrong", value: null }]) {
      const button = document.createElement("button");
      button.textContent = `Flag as ${option.label}`;
      button.addEventListener("click", () => flag(option));
      buttons.appendChild(button);
    }
    document.getElementById("notice").textContent = config.notice || "";
  }

  draw().catch((error) => { status.textContent = `Cannot reach the collector: ${error}`; });
})();
