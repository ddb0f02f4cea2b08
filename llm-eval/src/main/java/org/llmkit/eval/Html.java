package org.llmkit.eval;

import java.util.Base64;
import java.util.Locale;
import java.util.Map;

/** Small pieces of self-contained HTML (no external assets) for reports. */
final class Html {
    private Html() { }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    static String page(String title, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title)
                + "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
                + "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem}"
                + "td.num{text-align:right;font-variant-numeric:tabular-nums}.up{color:#1b7f2a}.down{color:#b00020}"
                + "img{max-width:100%;display:block;margin:1rem 0}</style>\n</head>\n<body>\n<h1>" + escape(title)
                + "</h1>\n" + body + "</body>\n</html>\n";
    }

    static String images(Map<String, byte[]> charts) {
        StringBuilder out = new StringBuilder();
        charts.forEach((name, png) -> out.append("<img alt=\"").append(escape(name)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">\n"));
        return out.toString();
    }

    static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value) : String.format(Locale.ROOT, "%.4f", value);
    }
}
