package org.llmkit.data;

import java.text.Normalizer;

/**
 * Unicode normalization and whitespace clean-up: NFC; {@code \r\n} and {@code \r} become
 * {@code \n}; control characters other than tab and newline are removed; runs of spaces and tabs
 * become one space; spaces at line ends go; more than one blank line becomes one; the text is trimmed.
 */
final class TextNormalizer {

    private TextNormalizer() {
    }

    static String normalize(String text) {
        String nfc = Normalizer.isNormalized(text, Normalizer.Form.NFC) ? text : Normalizer.normalize(text, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        int newlines = 0;
        boolean pendingSpace = false;
        for (int i = 0; i < nfc.length(); i++) {
            char c = nfc.charAt(i);
            if (c == '\r') {
                if (i + 1 < nfc.length() && nfc.charAt(i + 1) == '\n') {
                    continue;
                }
                c = '\n';
            }
            if (c == '\n') {
                pendingSpace = false;
                newlines++;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\u00a0' || Character.isSpaceChar(c)) {
                pendingSpace = true;
                continue;
            }
            if (Character.isISOControl(c) || c == '\u200b' || c == '\ufeff') {
                continue;
            }
            if (out.length() > 0) {
                if (newlines > 0) {
                    out.append(newlines > 1 ? "\n\n" : "\n");
                } else if (pendingSpace) {
                    out.append(' ');
                }
            }
            newlines = 0;
            pendingSpace = false;
            out.append(c);
        }
        return out.toString();
    }
}
