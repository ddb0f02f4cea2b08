package org.llmkit.samples.bundled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level alphabet, as HuggingFace tokenizers' {@code ByteLevel} pre-tokenizer uses it: text is
 * split into words by GPT-2's pattern, each word's UTF-8 bytes become 256 printable characters (printable
 * ASCII and Latin-1 bytes stand for themselves; the others, space included, map to U+0100 onwards, so a space
 * is {@code Ġ}).
 */
final class ByteLevel {
    /** GPT-2's pre-tokenization pattern: contractions, letters, digits, other symbols, whitespace. */
    private static final Pattern WORDS = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    /** {@code CHARS[b]} is the character that stands for byte {@code b}. */
    private static final char[] CHARS = new char[256];

    static {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            CHARS[b] = printable ? (char) b : (char) next++;
        }
    }

    private ByteLevel() { }

    /**
     * Returns the 256 characters of the alphabet in byte order.
     *
     * @return one string per byte value
     */
    static List<String> alphabet() {
        List<String> out = new ArrayList<>(256);
        for (char c : CHARS) {
            out.add(String.valueOf(c));
        }
        return out;
    }

    /**
     * Splits text into words and spells each in the byte-level alphabet.
     *
     * @param text the text
     * @return the words, for example {@code ["Once", "Ġupon", "Ġa", "Ġtime", ","]}
     */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORDS.matcher(text);
        while (m.find()) {
            byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
            StringBuilder b = new StringBuilder(bytes.length);
            for (byte x : bytes) {
                b.append(CHARS[x & 0xFF]);
            }
            out.add(b.toString());
        }
        return out;
    }
}
