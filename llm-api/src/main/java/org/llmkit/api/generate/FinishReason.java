package org.llmkit.api.generate;

/** Why a sequence stopped, in OpenAI's vocabulary. */
public enum FinishReason {
    /** An end-of-sequence token or a stop string was produced. */
    STOP,
    /** maxNewTokens was reached. */
    LENGTH
}
