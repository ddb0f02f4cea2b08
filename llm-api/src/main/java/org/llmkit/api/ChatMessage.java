package org.llmkit.api;

import java.util.Objects;

/**
 * One turn of a chat conversation, as passed to a chat template: a role such as {@code system},
 * {@code user} or {@code assistant}, and the text of the turn.
 *
 * @param role the speaker of this turn; never null or blank
 * @param content the text of this turn; never null, may be empty
 */
public record ChatMessage(String role, String content) {

    /** The role of system prompts. */
    public static final String SYSTEM = "system";

    /** The role of user turns. */
    public static final String USER = "user";

    /** The role of model turns. */
    public static final String ASSISTANT = "assistant";

    /**
     * Validates the components.
     *
     * @param role the speaker of this turn; never null or blank
     * @param content the text of this turn; never null, may be empty
     * @throws NullPointerException if {@code role} or {@code content} is null
     * @throws IllegalArgumentException if {@code role} is blank
     */
    public ChatMessage {
        Objects.requireNonNull(role, "role must not be null");
        Objects.requireNonNull(content, "content must not be null");
        if (role.isBlank()) {
            throw new IllegalArgumentException("role must not be blank, got '" + role + "'");
        }
    }

    /**
     * Creates a message with any role.
     *
     * @param role the speaker of this turn; not null or blank
     * @param content the text of this turn; not null
     * @return the message
     */
    public static ChatMessage of(String role, String content) {
        return new ChatMessage(role, content);
    }

    /**
     * Creates a {@code system} message.
     *
     * @param content the system prompt; not null
     * @return the message
     */
    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    /**
     * Creates a {@code user} message.
     *
     * @param content the user's text; not null
     * @return the message
     */
    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    /**
     * Creates an {@code assistant} message.
     *
     * @param content the model's text; not null
     * @return the message
     */
    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }
}
