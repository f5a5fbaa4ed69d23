"""The client-facing wire formats: requests in, and the answers' shape back out.

Both routes parse into one canonical (OpenAI-shaped) `ChatRequest`: `openai_chat` for
`/v1/chat/completions`, `anthropic_messages` (+ `anthropic_stream` for its SSE events) for
`/v1/messages`. Provider wire formats, the outbound side, are `routing.adapters`'.
"""
