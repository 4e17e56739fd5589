import type { Message } from "../api/types";
import { Markdown } from "../markdown/Markdown";

const ROLE_NAMES: Record<string, string> = {
  user: "User",
  assistant: "Assistant",
  system: "System",
  tool: "Tool",
};

/** The prompt: a single question, or a multi-turn conversation shown turn by turn. */
export function Conversation({ messages }: { messages: Message[] }) {
  const multi = messages.length > 1;
  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <h2 id="conversation-title">{multi ? `Conversation (${messages.length} turns)` : "Prompt"}</h2>
      <ol className="turns">
        {messages.map((message, index) => (
          <li key={index} className={`turn turn-${ROLE_NAMES[message.role] ? message.role : "other"}`}>
            <div className="turn-role">{ROLE_NAMES[message.role] ?? message.role}</div>
            <Markdown text={message.content} />
          </li>
        ))}
      </ol>
    </section>
  );
}
