"""Regenerates *.expected.txt with Jinja2 configured exactly as transformers' chat-template renderer
(transformers/utils/chat_template_utils.py: ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, extensions=[loopcontrols]) + raise_exception/strftime_now globals + its tojson)."""
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError
import jinja2.ext

def raise_exception(message):
    raise TemplateError(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

special = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": "<|pad|>"}
conv = [
    {"role": "system", "content": "  You are terse.\n"},
    {"role": "user", "content": "Say hi to Java, please. 日本語 👋"},
    {"role": "assistant", "content": "<think>greet</think>  Hi, Java!  "},
    {"role": "user", "content": "  Again?  "},
]
tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather — \"now\"",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 3}, "metric": {"type": "boolean", "default": True}, "scale": {"type": "number", "default": 0.5}}, "required": ["city"]}}}]
cases = {
    "llama31": [conv, {}],
    "llama31_tools": [conv, {"tools": tools, "date_string": "01 Jan 2025"}],
    "qwen2": [conv, {}],
    "qwen25": [conv, {}],
    "qwen25_tools": [conv, {"tools": tools}],
    "alternating": [conv, {}],
}
for name, (msgs, extra) in cases.items():
    template = open(name.split("_")[0] + ".jinja").read()
    out = env.from_string(template).render(messages=msgs, add_generation_prompt=True, **special, **extra)
    open(name + ".expected.txt", "w").write(out)
json.dump({"special": special, "messages": conv, "tools": tools}, open("inputs.json", "w"), ensure_ascii=False, indent=1)
