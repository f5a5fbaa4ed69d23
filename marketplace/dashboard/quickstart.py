"""The overview's quick start: a first request in curl, Python and TypeScript (both `openai`).

Filled with this server's public `/v1` base (`PUBLIC_URL`) and a model the org uses; the key
is always read from the environment, so a snippet copied into a shell history holds no secret.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_MODEL = "openai/gpt-4o-mini"
KEY_VARIABLE = "SWITCHYARD_API_KEY"


def api_base() -> str:
    return settings.PUBLIC_URL.rstrip("/") + "/v1"


def snippets(model: str | None = None) -> list[dict[str, str]]:
    """[{id, label, code}] for curl, Python and TypeScript."""
    base = api_base()
    model = model or DEFAULT_MODEL
    curl = (
        f"curl {base}/chat/completions \\\n"
        # A shell variable, not money: concatenated so no "${" reads as a dollar format.
        '  -H "Authorization: Bearer $' + KEY_VARIABLE + '" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{{\"model\": \"{model}\", "
        '"messages": [{"role": "user", "content": "Hello!"}]}\''
    )
    python = (
        "import os\n"
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{base}", api_key=os.environ["{KEY_VARIABLE}"])\n'
        "completion = client.chat.completions.create(\n"
        f'    model="{model}",\n'
        '    messages=[{"role": "user", "content": "Hello!"}],\n'
        ")\n"
        "print(completion.choices[0].message.content)"
    )
    typescript = (
        'import OpenAI from "openai";\n\n'
        f'const client = new OpenAI({{ baseURL: "{base}", apiKey: process.env.{KEY_VARIABLE} }});\n'
        "const completion = await client.chat.completions.create({\n"
        f'  model: "{model}",\n'
        '  messages: [{ role: "user", content: "Hello!" }],\n'
        "});\n"
        "console.log(completion.choices[0].message.content);"
    )
    return [
        {"id": "snippet-curl", "label": "curl", "code": curl},
        {"id": "snippet-python", "label": "Python", "code": python},
        {"id": "snippet-typescript", "label": "TypeScript", "code": typescript},
    ]
