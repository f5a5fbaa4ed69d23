"""What the request's structure adds to its words: tools, JSON output, documents, code."""

from __future__ import annotations

from routing.task_labels import label_task

TOOLS = [
    {
        "type": "function",
        "function": {"name": "save_note", "parameters": {"type": "object", "properties": {}}},
    }
]
POLICY = (
    "The warehouse in Leeds ships orders placed before noon the same day. Orders placed later "
    "ship the next working day. Returns are accepted within 30 days with a receipt. Refunds go "
    "back to the original payment method within five days. "
) * 10


def _user(text: str, **extra: object) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


def test_tools_offered_make_any_request_agentic():
    poem = "Write a short poem about spring."
    assert label_task(_user(poem)) == "creative_writing"
    assert label_task(_user(poem, tools=TOOLS)) == "agentic"
    assert label_task({**_user(poem), "functions": [{"name": "save_note"}]}) == "agentic"


def test_tools_switched_off_by_tool_choice_none_do_not_count():
    body = _user("Write a short poem about spring.", tools=TOOLS, tool_choice="none")
    assert label_task(body) == "creative_writing"


def test_tool_turns_in_the_conversation_are_agentic_without_tools_listed():
    openai_turns = {
        "messages": [
            {"role": "user", "content": "Translate 'good morning' into French."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "t"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "bonjour"},
        ]
    }
    anthropic_turns = {
        "messages": [
            {"role": "user", "content": "Translate 'good morning' into French."},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "t"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
        ]
    }
    assert label_task(_user("Translate 'good morning' into French.")) == "translation"
    assert label_task(openai_turns) == "agentic"
    assert label_task(anthropic_turns) == "agentic"


def test_a_json_output_contract_leans_to_extraction():
    # Words alone that lean elsewhere (asked about, so document_qa), tipped by the format.
    text = "Here is the note from Dr. Lee about the patient. What medications were prescribed?"
    assert label_task(_user(text)) != "extraction"
    for fmt in ({"type": "json_object"}, {"type": "json_schema", "json_schema": {"name": "x"}}):
        assert label_task(_user(text, response_format=fmt)) == "extraction"


def test_json_output_does_not_overrule_words_that_are_clearly_something_else():
    body = _user("Translate into French: the meeting is at noon.")
    assert label_task({**body, "response_format": {"type": "json_object"}}) == "translation"


def test_a_long_document_with_a_question_is_document_qa():
    assert label_task(_user(POLICY + "\n\nHow long do refunds take?")) == "document_qa"
    assert label_task(_user("Context:\n" + POLICY + "\nQuestion: when do late orders ship?")) == (
        "document_qa"
    )


def test_a_long_document_with_another_instruction_keeps_that_instruction():
    assert label_task(_user("Summarize this policy for customers:\n\n" + POLICY)) == (
        "summarization"
    )
    assert label_task(_user("Translate this policy into German:\n\n" + POLICY)) == "translation"


def test_the_system_prompt_counts():
    body = {
        "messages": [
            {"role": "system", "content": "You translate everything the user says into Japanese."},
            {"role": "user", "content": "The train leaves at six tomorrow morning."},
        ]
    }
    assert label_task(body) == "translation"
    anthropic = {"system": [{"type": "text", "text": body["messages"][0]["content"]}]}
    assert label_task({**anthropic, "messages": body["messages"][1:]}) == "translation"
