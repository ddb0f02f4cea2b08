package org.llmkit.api.generate;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Turns a growing list of generated token ids into text pieces for streaming, and finds stop strings.
 *
 * <p>Byte-level BPE tokens may hold part of a UTF-8 character, which decodes to U+FFFD until the rest
 * arrives; a piece is only released once the decoded text no longer ends in U+FFFD, so a multi-byte
 * character is never split. When stop strings are set, the last {@code longestStop - 1} characters
 * are held back, because they may be the start of a stop string (which is never emitted).
 */
public final class TextAssembler {
    private final Function<int[], String> decoder;
    private final List<String> stops;
    private final int holdBack;
    private int[] ids = new int[16];
    private int count;
    private String text = "";
    private int emitted;
    private int stopAt = -1;

    /**
     * Creates an assembler.
     *
     * @param decoder token ids to text (the tokenizer's decode)
     * @param stops stop strings, possibly empty
     */
    public TextAssembler(Function<int[], String> decoder, List<String> stops) {
        this.decoder = decoder;
        this.stops = List.copyOf(stops);
        this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    /**
     * Adds a generated token.
     *
     * @param id the token
     * @return true when the text now contains a stop string (generation should end)
     */
    public boolean add(int id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        text = decoder.apply(Arrays.copyOf(ids, count));
        for (String s : stops) {
            int at = text.indexOf(s, Math.max(0, emitted - s.length()));
            if (at >= 0 && (stopAt < 0 || at < stopAt)) {
                stopAt = at;
            }
        }
        return stopAt >= 0;
    }

    /**
     * Returns the text that can be released now (and marks it released).
     *
     * @param finished true when generation ended: release everything up to the stop string
     * @return a piece, possibly empty
     */
    public String release(boolean finished) {
        int end;
        if (stopAt >= 0) {
            end = stopAt;
        } else if (finished) {
            end = text.length();
        } else {
            end = text.length() - holdBack;
            while (end > emitted && end <= text.length() && text.charAt(end - 1) == '\uFFFD') {
                end--;
            }
            if (end > emitted && Character.isHighSurrogate(text.charAt(end - 1))) {
                end--;
            }
        }
        if (end <= emitted) {
            return "";
        }
        String piece = text.substring(emitted, end);
        emitted = end;
        return piece;
    }

    /** @return the generated text so far, cut before a stop string if one appeared */
    public String text() {
        return stopAt >= 0 ? text.substring(0, stopAt) : text;
    }

    /** @return whether a stop string was found */
    public boolean stopped() {
        return stopAt >= 0;
    }
}
