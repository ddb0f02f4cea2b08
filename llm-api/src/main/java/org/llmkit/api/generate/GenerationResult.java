package org.llmkit.api.generate;

/**
 * The outcome of generating from one prompt.
 *
 * @param promptTokens the prompt ids
 * @param newTokens the generated ids (including a final EOS id when one ended the sequence)
 * @param text the generated text, decoded, cut before a stop string, without a final EOS token's text
 *     ({@code null} when the model has no tokenizer)
 * @param finishReason why generation ended
 * @param prefillNanos time of the prompt's forward pass (shared by a batch)
 * @param totalNanos time of the whole generation
 */
public record GenerationResult(int[] promptTokens, int[] newTokens, String text, FinishReason finishReason,
        long prefillNanos, long totalNanos) {

    /** @return prompt followed by the new tokens */
    public int[] tokens() {
        int[] all = java.util.Arrays.copyOf(promptTokens, promptTokens.length + newTokens.length);
        System.arraycopy(newTokens, 0, all, promptTokens.length, newTokens.length);
        return all;
    }
}
