package org.llmkit.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Python {@code str} semantics that chat templates rely on and that Java's {@link String} lacks or
 * implements differently (whitespace definition, {@code split} without regular expressions).
 */
final class PyStrings {

    private PyStrings() {}

    /**
     * Returns whether a code point is whitespace for Python's {@code str.isspace()}.
     *
     * @param cp the code point
     * @return true for Python whitespace
     */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D)
                || (cp >= 0x1C && cp <= 0x20)
                || cp == 0x85
                || cp == 0xA0
                || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028
                || cp == 0x2029
                || cp == 0x202F
                || cp == 0x205F
                || cp == 0x3000;
    }

    private static boolean strips(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0;
    }

    /**
     * Python's {@code s.lstrip(chars)}.
     *
     * @param s the string
     * @param chars the characters to remove, or null for whitespace
     * @return the stripped string
     */
    static String lstrip(String s, String chars) {
        int start = 0;
        while (start < s.length()) {
            int cp = s.codePointAt(start);
            if (!strips(cp, chars)) {
                break;
            }
            start += Character.charCount(cp);
        }
        return s.substring(start);
    }

    /**
     * Python's {@code s.rstrip(chars)}.
     *
     * @param s the string
     * @param chars the characters to remove, or null for whitespace
     * @return the stripped string
     */
    static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!strips(cp, chars)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /**
     * Python's {@code s.strip(chars)}.
     *
     * @param s the string
     * @param chars the characters to remove, or null for whitespace
     * @return the stripped string
     */
    static String strip(String s, String chars) {
        return lstrip(rstrip(s, chars), chars);
    }

    /**
     * Python's {@code s.split(sep, maxsplit)}: literal separator, or runs of whitespace when
     * {@code sep} is null (then empty strings are dropped).
     *
     * @param s the string
     * @param sep the separator, or null for whitespace
     * @param maxSplit the most splits to make; negative for no limit
     * @return the parts
     */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i >= n) {
                    return parts;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(rstrip(s.substring(i), null));
                    return parts;
                }
                int start = i;
                while (i < n && !isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                parts.add(s.substring(start, i));
            }
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("split: empty separator");
        }
        int start = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, start)) >= 0) {
            parts.add(s.substring(start, at));
            start = at + sep.length();
        }
        parts.add(s.substring(start));
        return parts;
    }

    /**
     * Python's {@code s.title()}: the first letter of each run of letters upper case, the rest
     * lower case.
     *
     * @param s the string
     * @return the title-cased string
     */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean letter = Character.isLetter(cp);
            out.appendCodePoint(
                    letter
                            ? (previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp))
                            : cp);
            previousCased = letter;
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    /**
     * Python's {@code s.capitalize()}.
     *
     * @param s the string
     * @return the string with its first character upper case and the rest lower case
     */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new StringBuilder()
                .appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(n).toLowerCase(Locale.ROOT))
                .toString();
    }

    /**
     * Python's {@code s.startswith(prefix)} where prefix may be a string or a tuple (list) of
     * strings.
     *
     * @param s the string
     * @param prefixes a string or a collection of strings
     * @param suffix true to test the end ({@code endswith}) instead of the start
     * @return whether any candidate matches
     */
    static boolean affixMatches(String s, Object prefixes, boolean suffix) {
        if (prefixes instanceof Collection<?> many) {
            for (Object one : many) {
                if (affixMatches(s, one, suffix)) {
                    return true;
                }
            }
            return false;
        }
        String p = String.valueOf(prefixes);
        return suffix ? s.endsWith(p) : s.startsWith(p);
    }

    /**
     * Python's {@code s.replace(old, new, count)}.
     *
     * @param s the string
     * @param target the text to replace
     * @param replacement the new text
     * @param count the most replacements; negative for all
     * @return the string with replacements made
     */
    static String replace(String s, String target, String replacement, int count) {
        if (count < 0) {
            return s.replace(target, replacement);
        }
        StringBuilder out = new StringBuilder();
        int start = 0;
        int done = 0;
        int at;
        while (done < count && (at = s.indexOf(target, start)) >= 0) {
            out.append(s, start, at).append(replacement);
            start = at + target.length();
            done++;
            if (target.isEmpty()) {
                if (start >= s.length()) {
                    break;
                }
                out.append(s.charAt(start));
                start++;
            }
        }
        return out.append(s.substring(start)).toString();
    }
}
