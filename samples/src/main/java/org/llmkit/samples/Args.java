package org.llmkit.samples;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Minimal {@code --name value} / {@code --flag} parsing for the samples, with errors naming the option. */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Map<String, String> help = new LinkedHashMap<>();
    private final String usage;

    Args(String usage, String[] argv) {
        this.usage = usage;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; options start with --\n" + usage);
            }
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                values.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                values.put(name, argv[++i]);
            } else {
                values.put(name, "true");
            }
        }
    }

    Args describe(String option, String text) {
        help.put(option, text);
        return this;
    }

    boolean wantsHelp() {
        return values.containsKey("help");
    }

    String helpText() {
        StringBuilder b = new StringBuilder(usage).append("\n\nOptions:\n");
        help.forEach((k, v) -> b.append(String.format("  --%-16s %s%n", k, v)));
        return b.toString();
    }

    void checkKnown() {
        for (String k : values.keySet()) {
            if (!help.containsKey(k) && !k.equals("help")) {
                throw new IllegalArgumentException("unknown option --" + k + "\n" + helpText());
            }
        }
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    java.nio.file.Path path(String name) {
        String v = values.get(name);
        return v == null ? null : java.nio.file.Path.of(v);
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(values.getOrDefault(name, "false"));
    }

    int integer(String name, int fallback) {
        String v = values.get(name);
        try {
            return v == null ? fallback : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " expects an integer but got '" + v + "'");
        }
    }

    double number(String name, double fallback) {
        String v = values.get(name);
        try {
            return v == null ? fallback : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " expects a number but got '" + v + "'");
        }
    }
}
