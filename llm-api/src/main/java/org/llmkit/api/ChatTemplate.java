package org.llmkit.api;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.lang.reflect.Method;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

import jinjava.javax.el.CompositeELResolver;

/**
 * A HuggingFace chat template rendered the way transformers renders it: a Jinja2 sandbox with
 * {@code trim_blocks=True}, {@code lstrip_blocks=True}, the loop-controls extension, the globals
 * {@code raise_exception} and {@code strftime_now}, and transformers' own {@code tojson} filter.
 * Jinjava stands in for Jinja2; the settings below close the gaps that real templates hit
 * (whitespace control on {@code {{- -}}} and comments, Python {@code str} methods, Python's
 * {@code strip} whitespace, Jinja2 dropping a single trailing newline of the template).
 */
final class ChatTemplate {

    private static final Jinjava JINJAVA = createJinjava();

    private final String source;
    private final String origin;

    /**
     * Creates a template.
     *
     * @param source the Jinja source
     * @param origin where the source came from (a file, or a file and field), for error messages
     */
    ChatTemplate(String source, String origin) {
        this.source = Objects.requireNonNull(source, "source");
        this.origin = Objects.requireNonNull(origin, "origin");
    }

    /**
     * Returns the Jinja source as it was read.
     *
     * @return the template source
     */
    String source() {
        return source;
    }

    /**
     * Returns where the template came from.
     *
     * @return a file name, or a file name and field
     */
    String origin() {
        return origin;
    }

    /**
     * Renders the template.
     *
     * @param messages the conversation
     * @param addGenerationPrompt whether to append the header that starts an assistant turn
     * @param specialTokens variables such as {@code bos_token}; entries with null values are left out
     * @param extraVariables further variables (for example {@code date_string} or {@code tools});
     *     they override everything else of the same name
     * @return the rendered prompt
     * @throws IllegalArgumentException when the template calls {@code raise_exception}
     * @throws IllegalStateException when the template cannot be parsed or rendered
     */
    String render(
            List<ChatMessage> messages,
            boolean addGenerationPrompt,
            Map<String, String> specialTokens,
            Map<String, ?> extraVariables) {
        Map<String, Object> variables = new LinkedHashMap<>();
        specialTokens.forEach(
                (k, v) -> {
                    if (v != null) {
                        variables.put(k, v);
                    }
                });
        List<Map<String, Object>> turns = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Objects.requireNonNull(m, "messages must not contain null");
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", m.role());
            turn.put("content", m.content());
            turns.add(turn);
        }
        variables.put("messages", turns);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.putAll(extraVariables);

        RenderResult result;
        try {
            result = JINJAVA.renderForResult(jinjaSource(source), variables);
        } catch (RuntimeException e) {
            TemplateRaisedException raised = findRaised(e);
            if (raised != null) {
                throw rejected(raised);
            }
            throw new IllegalStateException(
                    "chat template " + origin + " failed to render: " + e.getMessage(), e);
        }
        List<TemplateError> fatal =
                result.getErrors().stream()
                        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                        .collect(Collectors.toList());
        if (fatal.isEmpty()) {
            return result.getOutput();
        }
        for (TemplateError error : fatal) {
            TemplateRaisedException raised = findRaised(error.getException());
            if (raised != null) {
                throw rejected(raised);
            }
        }
        String details =
                fatal.stream()
                        .map(e -> "line " + e.getLineno() + ": " + e.getMessage()
                                + (e.getFieldName() == null || e.getFieldName().isEmpty()
                                        ? ""
                                        : " (in '" + e.getFieldName() + "')"))
                        .collect(Collectors.joining("; "));
        IllegalStateException failure =
                new IllegalStateException("chat template " + origin + " failed to render: " + details);
        if (fatal.get(0).getException() != null) {
            failure.initCause(fatal.get(0).getException());
        }
        throw failure;
    }

    private IllegalArgumentException rejected(TemplateRaisedException raised) {
        return new IllegalArgumentException(
                "chat template " + origin + " rejected the conversation: " + raised.getMessage(),
                raised);
    }

    private static TemplateRaisedException findRaised(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TemplateRaisedException raised) {
                return raised;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    /**
     * Applies Jinja2's lexer normalisation: line endings become {@code \n} and a single trailing
     * newline is dropped ({@code keep_trailing_newline=False}).
     *
     * @param source the template as stored
     * @return the source Jinjava should render
     */
    static String jinjaSource(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    /**
     * The {@code raise_exception(message)} global of transformers' chat templates.
     *
     * @param message the message the template gives
     * @return never returns
     */
    static Object raiseException(Object message) {
        throw new TemplateRaisedException(String.valueOf(message));
    }

    /**
     * The {@code strftime_now(format)} global of transformers' chat templates: the local time now.
     *
     * @param format a Python strftime pattern
     * @return the formatted local time
     */
    static String strftimeNow(Object format) {
        return Strftime.format(String.valueOf(format), ZonedDateTime.now());
    }

    private static Jinjava createJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config =
                JinjavaConfig.newBuilder()
                        .withTrimBlocks(true)
                        .withLstripBlocks(true)
                        .withElResolver(resolver)
                        .withLegacyOverrides(
                                LegacyOverrides.newBuilder()
                                        .withUseTrimmingForNotesAndExpressions(true)
                                        .withParseWhitespaceControlStrictly(true)
                                        // "natural" precedence parses `not x is defined` as
                                        // `(not x) is defined`; Jinja2 (and Llama 3.x templates)
                                        // mean `not (x is defined)`.
                                        .withUseNaturalOperatorPrecedence(false)
                                        .withAllowAdjacentTextNodes(true)
                                        .withKeepNullableLoopValues(true)
                                        .withEvaluateMapKeys(true)
                                        .withIterateOverMapKeys(true)
                                        .withUsePyishObjectMapper(true)
                                        .build())
                        .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(function("raise_exception", "raiseException"));
        jinjava.getGlobalContext().registerFunction(function("strftime_now", "strftimeNow"));
        jinjava.getGlobalContext().registerFilter(new PyToJsonFilter());
        jinjava.getGlobalContext().registerFilter(new PyTrimFilter());
        return jinjava;
    }

    private static ELFunctionDefinition function(String name, String method) {
        try {
            Method m = ChatTemplate.class.getDeclaredMethod(method, Object.class);
            m.setAccessible(true);
            return new ELFunctionDefinition("", name, m);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("missing template function " + method, e);
        }
    }

    /** Thrown by {@code raise_exception}; carries the template's message. */
    static final class TemplateRaisedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaisedException(String message) {
            super(message);
        }
    }

    /** transformers' {@code tojson}: {@code json.dumps(x, ensure_ascii=False, ...)}. */
    static final class PyToJsonFilter implements Filter {

        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(
                Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ensureAscii = option(args, kwargs, 0, "ensure_ascii", Boolean.FALSE);
            Object indent = option(args, kwargs, 1, "indent", null);
            Object separators = option(args, kwargs, 2, "separators", null);
            Object sortKeys = option(args, kwargs, 3, "sort_keys", Boolean.FALSE);
            List<String> seps = null;
            if (separators instanceof List<?> list) {
                seps = list.stream().map(String::valueOf).collect(Collectors.toList());
            } else if (separators != null) {
                throw new IllegalArgumentException(
                        "tojson: separators must be a (item, key) pair, got " + separators);
            }
            int spaces = indent == null ? -1 : ((Number) indent).intValue();
            return new PyJson(spaces, seps, truthy(sortKeys), truthy(ensureAscii)).dumps(var);
        }

        private static Object option(
                Object[] args, Map<String, Object> kwargs, int index, String name, Object fallback) {
            if (kwargs != null && kwargs.containsKey(name)) {
                return kwargs.get(name);
            }
            return args != null && args.length > index && args[index] != null ? args[index] : fallback;
        }

        private static boolean truthy(Object value) {
            return value instanceof Boolean b ? b : value != null && Boolean.parseBoolean(value.toString());
        }
    }

    /** Jinja2's {@code trim(value, chars=None)}: Python {@code str.strip} semantics. */
    static final class PyTrimFilter implements Filter {

        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var == null) {
                return "";
            }
            String chars = args != null && args.length > 0 ? args[0] : null;
            return PyStrings.strip(var.toString(), chars);
        }
    }
}
