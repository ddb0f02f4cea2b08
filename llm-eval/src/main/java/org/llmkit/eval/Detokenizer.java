package org.llmkit.eval;

import java.util.regex.Pattern;

/**
 * Undoes the word tokenisation some datasets ship with (SST-2, MRPC, WSC), as lm-evaluation-harness
 * does before building prompts: no space before {@code n't}, closing brackets, quotes, apostrophes,
 * periods and commas; none after opening brackets.
 */
final class Detokenizer {
    private static final Pattern SPACE_BEFORE_PUNCTUATION = Pattern.compile(" (['.,])");

    private Detokenizer() { }

    static String general(String text) {
        String s = text.replace(" n't", "n't").replace(" )", ")").replace("( ", "(")
                .replace("\" ", "\"").replace(" \"", "\"");
        return SPACE_BEFORE_PUNCTUATION.matcher(s).replaceAll("$1");
    }
}
