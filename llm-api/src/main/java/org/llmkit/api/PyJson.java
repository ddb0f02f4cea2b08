package org.llmkit.api;

import com.hubspot.jinjava.objects.SafeString;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as transformers' chat-template {@code tojson} filter calls it:
 * {@code ensure_ascii=False} by default, {@code ", "} and {@code ": "} separators without indent,
 * {@code ","} with one, optional {@code sort_keys}. Jinjava's own {@code tojson} writes compact
 * Jackson output ({@code {"a":1}}), which would change every tool-calling prompt.
 */
final class PyJson {

    /** Stands for a null map value while entries are sorted ({@link Map#entry} rejects null). */
    private static final Object NULL = new Object();

    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final boolean ensureAscii;

    /**
     * Creates a serializer.
     *
     * @param indent the spaces per level, or negative for single-line output
     * @param separators item and key separators, or null for Python's defaults
     * @param sortKeys whether to sort object keys
     * @param ensureAscii whether to escape every non-ASCII character
     */
    PyJson(int indent, List<String> separators, boolean sortKeys, boolean ensureAscii) {
        this.indent = indent < 0 ? null : " ".repeat(indent);
        if (separators != null) {
            if (separators.size() != 2) {
                throw new IllegalArgumentException(
                        "tojson: separators must be (item_separator, key_separator), got "
                                + separators);
            }
            this.itemSeparator = separators.get(0);
            this.keySeparator = separators.get(1);
        } else {
            this.itemSeparator = indent < 0 ? ", " : ",";
            this.keySeparator = ": ";
        }
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
    }

    /**
     * Serializes a value built from maps, lists, arrays, strings, numbers, booleans and null.
     *
     * @param value the value
     * @return its JSON text
     */
    String dumps(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.toString();
    }

    private void write(StringBuilder out, Object value, int depth) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (value instanceof Integer
                || value instanceof Long
                || value instanceof Short
                || value instanceof Byte
                || value instanceof BigInteger) {
            out.append(value);
        } else if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
            out.append(pythonFloat(((Number) value).doubleValue()));
        } else if (value instanceof CharSequence || value instanceof Character) {
            quote(out, value.toString());
        } else if (value instanceof Map<?, ?> map) {
            writeMap(out, map, depth);
        } else if (value instanceof Iterable<?> iterable) {
            writeList(out, iterable.iterator(), depth);
        } else if (value instanceof Object[] array) {
            writeList(out, List.of(array).iterator(), depth);
        } else if (value instanceof SafeString) {
            quote(out, value.toString());
        } else {
            throw new IllegalArgumentException(
                    "tojson: Object of type " + value.getClass().getName() + " is not JSON serializable");
        }
    }

    private void writeMap(StringBuilder out, Map<?, ?> map, int depth) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            entries.add(Map.entry(keyString(e.getKey()), nullSafe(e.getValue())));
        }
        if (sortKeys) {
            entries.sort(Map.Entry.comparingByKey());
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : entries) {
            if (!first) {
                out.append(itemSeparator);
            }
            first = false;
            newline(out, depth + 1);
            quote(out, e.getKey());
            out.append(keySeparator);
            write(out, e.getValue() == NULL ? null : e.getValue(), depth + 1);
        }
        newline(out, depth);
        out.append('}');
    }

    private static Object nullSafe(Object value) {
        return value == null ? NULL : value;
    }

    private void writeList(StringBuilder out, Iterator<?> items, int depth) {
        if (!items.hasNext()) {
            out.append("[]");
            return;
        }
        out.append('[');
        boolean first = true;
        while (items.hasNext()) {
            if (!first) {
                out.append(itemSeparator);
            }
            first = false;
            newline(out, depth + 1);
            write(out, items.next(), depth + 1);
        }
        newline(out, depth);
        out.append(']');
    }

    private void newline(StringBuilder out, int depth) {
        if (indent != null) {
            out.append('\n').append(indent.repeat(depth));
        }
    }

    private static String keyString(Object key) {
        if (key == null) {
            return "null";
        }
        if (key instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (key instanceof Double || key instanceof Float) {
            return pythonFloat(((Number) key).doubleValue());
        }
        return key.toString();
    }

    private static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = shortest.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - shortest.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = shortest.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
        return sign
                + mantissa
                + "e"
                + (exponent < 0 ? "-" : "+")
                + String.format("%02d", Math.abs(exponent));
    }

    private void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7F)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
