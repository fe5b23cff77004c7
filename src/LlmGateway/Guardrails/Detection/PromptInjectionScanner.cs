using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmGateway.Guardrails.Detection;

/// <summary>
/// Scores text for prompt-injection and jailbreak attempts from weighted signals: instruction-override phrases,
/// requests for the hidden prompt, role-play escapes, chat-template delimiters, and base64 payloads that decode to
/// any of these. Signals combine like independent evidence, <c>1 - Π(1 - weight)</c>, so one strong signal or
/// several weak ones cross the threshold while a single weak one ("jailbreak my phone") does not.
/// </summary>
public static partial class PromptInjectionScanner
{
    public const string Label = "INJECTION";

    // Shortest base64 run worth decoding: 24 characters carry 18 bytes, a short sentence.
    private const int MinimumEncodedLength = 24;
    private const int MaximumEncodedLength = 16 * 1024;

    /// <summary>The score of <paramref name="text"/> in [0, 1].</summary>
    public static double Score(ReadOnlySpan<char> text) => Score(text, decodePayloads: true, everyPattern: false);

    /// <summary>
    /// The score with every pattern run on every text: the reference that tests hold <see cref="Score(ReadOnlySpan{char})"/>
    /// to, since running a pattern only where its literals are may not change any score.
    /// </summary>
    internal static double ScoreRunningEveryPattern(ReadOnlySpan<char> text) => Score(text, decodePayloads: true, everyPattern: true);

    private static double Score(ReadOnlySpan<char> text, bool decodePayloads, bool everyPattern)
    {
        var present = everyPattern ? Signals.All : LiteralScan.Find(text);
        var innocence = 1.0;
        if ((present & Signals.Override) != 0)
        {
            foreach (var match in OverridePattern().EnumerateMatches(text))
            {
                // "disregard my earlier instructions about the font" is a user correcting themselves.
                var phrase = text.Slice(match.Index, match.Length);
                innocence *= phrase.Contains(" my ", StringComparison.OrdinalIgnoreCase) ? 0.8 : 0.1;
                break;
            }
        }

        innocence *= Weigh(present, Signals.NewInstructions, NewInstructionsPattern(), text, 0.45);
        innocence *= Weigh(present, Signals.PromptLeak, PromptLeakPattern(), text, 0.3);
        innocence *= Weigh(present, Signals.RolePlayEscape, RolePlayEscapePattern(), text, 0.15);
        innocence *= Weigh(present, Signals.Unbound, UnboundPattern(), text, 0.4);
        innocence *= Weigh(present, Signals.Persona, PersonaPattern(), text, 0.35);
        innocence *= Weigh(present, Signals.JailbreakWord, JailbreakWordPattern(), text, 0.65);
        innocence *= Weigh(present, Signals.Delimiter, DelimiterPattern(), text, 0.4);
        innocence *= Weigh(present, Signals.DecodeAndObey, DecodeAndObeyPattern(), text, 0.5);

        if (decodePayloads && innocence > 0.1)
        {
            innocence *= EncodedPayloadInnocence(text, everyPattern);
        }

        return 1 - innocence;
    }

    /// <summary>One bit per pattern: which patterns have one of their literals in a text.</summary>
    [Flags]
    private enum Signals : ushort
    {
        None = 0,
        Override = 1 << 0,
        NewInstructions = 1 << 1,
        PromptLeak = 1 << 2,
        RolePlayEscape = 1 << 3,
        Unbound = 1 << 4,
        Persona = 1 << 5,
        JailbreakWord = 1 << 6,
        Delimiter = 1 << 7,
        DecodeAndObey = 1 << 8,
        All = (1 << 9) - 1,
    }

    // For each pattern, literals of which every match contains at least one, read off the alternation that every match
    // of the pattern passes through. A pattern runs only on text that has one of its literals, which cannot change its
    // result, and most prompts have none. Written in lower case; they match as case-insensitively as the patterns do.
    private static readonly (Signals Signal, string[] Literals)[] PatternLiterals =
    [
        (Signals.Override, ["ignore", "disregard", "forget", "override", "bypass", "skip", "discard", "drop", "abandon"]),
        (Signals.NewInstructions, ["new ", "updated ", "real ", "actual ", "true ", "from now on", "your "]),
        (Signals.PromptLeak, ["prompt", "message", "instructions", "repeat", "verbatim"]),
        (Signals.RolePlayEscape, ["pretend", "imagine", "act as", "act like", "roleplay", "role-play", "you are now", "you're now",
                                  "from now on", "simulate", "play the role"]),
        (Signals.Unbound, ["bound by", "restricted by", "limited by", "constrained by", "governed by", "have no ", "possess no ",
                           "unfiltered ", "uncensored ", "unrestricted ", "unaligned ", "amoral ", "anything now"]),
        (Signals.Persona, [" mode", "in character", " dan", " stan", " dude", " aim", " antigpt", " betterdan", " evilbot"]),
        (Signals.JailbreakWord, ["jailbr", "anything now"]),
        (Signals.Delimiter, ["<|", "inst]", "sys>>", "system", "##", "end of", "begin of"]),
        (Signals.DecodeAndObey, ["decode", "decipher", "translate", "unscramble", "reverse"]),
    ];

    /// <summary>
    /// One pass that finds every literal above at once. Characters fold as the patterns' case-insensitive matching
    /// folds them (ASCII letters, plus the few other characters that the regex engine equates with one, such as the
    /// Kelvin sign with 'k'); the literals are grouped by their first two folded characters, so each position of the
    /// text costs one table lookup, and only the literals that share its two characters are compared.
    /// </summary>
    private static class LiteralScan
    {
        private const int Alphabet = 128;

        // Every character that is not ASCII and not equated with an ASCII letter folds to this, which no literal has.
        private const char Other = '\0';

        private static readonly byte[] Folded = FoldTable();
        private static readonly string[] Literals;
        private static readonly Signals[] LiteralSignals;

        // Literals are ordered by their first two characters: BucketStart[pair] up to BucketStart[pair + 1] are the pair's.
        private static readonly int[] BucketStart;

        static LiteralScan()
        {
            var merged = new Dictionary<string, Signals>(StringComparer.Ordinal);
            foreach (var (signal, literals) in PatternLiterals)
            {
                foreach (var literal in literals)
                {
                    if (literal.Length < 2 || !Ascii.IsValid(literal) || literal.Any(char.IsAsciiLetterUpper) || literal.Contains(Other))
                    {
                        throw new InvalidOperationException($"literal '{literal}' must be lower-case ASCII of at least two characters");
                    }

                    merged[literal] = merged.GetValueOrDefault(literal) | signal;
                }
            }

            var ordered = merged.OrderBy(entry => Pair(entry.Key[0], entry.Key[1])).ToArray();
            Literals = [.. ordered.Select(entry => entry.Key)];
            LiteralSignals = [.. ordered.Select(entry => entry.Value)];
            BucketStart = new int[Alphabet * Alphabet + 1];
            foreach (var literal in Literals)
            {
                BucketStart[Pair(literal[0], literal[1]) + 1]++;
            }

            for (var i = 1; i < BucketStart.Length; i++)
            {
                BucketStart[i] += BucketStart[i - 1];
            }
        }

        public static Signals Find(ReadOnlySpan<char> text)
        {
            var found = Signals.None;
            if (text.IsEmpty)
            {
                return found;
            }

            var folded = Folded;
            int previous = folded[text[0]];
            for (var i = 1; i < text.Length; i++)
            {
                int current = folded[text[i]];
                var pair = (previous * Alphabet) + current;
                previous = current;
                var end = BucketStart[pair + 1];
                for (var j = BucketStart[pair]; j < end; j++)
                {
                    if (StartsWith(text[(i - 1)..], Literals[j]))
                    {
                        found |= LiteralSignals[j];
                    }
                }
            }

            return found;
        }

        // The first two characters are the bucket's own; the rest are compared folded.
        private static bool StartsWith(ReadOnlySpan<char> text, string literal)
        {
            if (text.Length < literal.Length)
            {
                return false;
            }

            for (var k = 2; k < literal.Length; k++)
            {
                if (Folded[text[k]] != literal[k])
                {
                    return false;
                }
            }

            return true;
        }

        private static int Pair(char first, char second) => (Folded[first] * Alphabet) + Folded[second];

        // Every UTF-16 code unit to its folded ASCII character, or to Other.
        private static byte[] FoldTable()
        {
            var table = new byte[char.MaxValue + 1];
            for (var c = 1; c < Alphabet; c++)
            {
                table[c] = (byte)(char.IsAsciiLetterUpper((char)c) ? c | 0x20 : c);
            }

            foreach (var (c, letter) in FindNonAsciiLetters())
            {
                table[c] = (byte)letter;
            }

            return table;
        }

        // Asks the regex engine itself which characters beyond ASCII it matches case-insensitively with an ASCII letter.
        private static Dictionary<char, char> FindNonAsciiLetters()
        {
            var beyondAscii = new char[char.MaxValue - Alphabet + 1];
            for (var i = 0; i < beyondAscii.Length; i++)
            {
                beyondAscii[i] = (char)(Alphabet + i);
            }

            var letters = new Dictionary<char, char>();
            foreach (var match in AsciiLetterPattern().EnumerateMatches(beyondAscii))
            {
                var c = beyondAscii[match.Index];
                letters[c] = Enumerable.Range('a', 26).Select(letter => (char)letter)
                    .First(letter => Regex.IsMatch(c.ToString(), letter.ToString(), Options));
            }

            return letters;
        }
    }

    private static double Weigh(Signals present, Signals signal, Regex pattern, ReadOnlySpan<char> text, double innocence) =>
        (present & signal) != 0 && pattern.IsMatch(text) ? innocence : 1.0;

    /// <summary>A base64 run that decodes to readable text which itself scores as an injection is near-certain evidence.</summary>
    private static double EncodedPayloadInnocence(ReadOnlySpan<char> text, bool everyPattern)
    {
        for (var from = 0; NextEncodedRun(text, ref from, out var index, out var length);)
        {
            if (length > MaximumEncodedLength)
            {
                continue;
            }

            // Unpadded base64 decodes only in whole quanta of four characters.
            var encoded = text.Slice(index, length);
            if (encoded[^1] != '=')
            {
                encoded = encoded[..(encoded.Length & ~3)];
            }

            var rented = ArrayPool<byte>.Shared.Rent(encoded.Length);
            try
            {
                if (!Convert.TryFromBase64Chars(encoded, rented, out var written) || !IsMostlyPrintable(rented.AsSpan(0, written)))
                {
                    continue;
                }

                var decoded = Encoding.UTF8.GetString(rented, 0, written);
                if (Score(decoded, decodePayloads: false, everyPattern) >= 0.3)
                {
                    return 0.05;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return 1.0;
    }

    /// <summary>
    /// Finds the next run, at or after <paramref name="from"/>, of at least <see cref="MinimumEncodedLength"/> base64
    /// characters that no base64 character precedes, with up to two '=' after it: what
    /// <c>(?&lt;![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}</c> matches. A run must fill any window of that length it
    /// starts in, so the search looks at the window's last character first and, if the window is broken, restarts after
    /// the break: ordinary text, whose words are short, costs well under one look per character.
    /// </summary>
    internal static bool NextEncodedRun(ReadOnlySpan<char> text, ref int from, out int index, out int length)
    {
        var start = from;
        while (start + MinimumEncodedLength <= text.Length)
        {
            // Every character from start to the window's end must be base64; look from the end back for a break.
            var broken = text.Slice(start, MinimumEncodedLength).LastIndexOfAnyExcept(Base64Characters);
            if (broken >= 0)
            {
                start += broken + 1;
                continue;
            }

            // A run that a base64 character precedes was passed over already, as part of a longer one.
            var end = start + MinimumEncodedLength;
            var rest = text[end..].IndexOfAnyExcept(Base64Characters);
            end = rest < 0 ? text.Length : end + rest;
            for (var padding = 0; padding < 2 && end < text.Length && text[end] == '='; padding++)
            {
                end++;
            }

            index = start;
            length = end - start;
            from = end;
            return true;
        }

        index = length = 0;
        from = text.Length;
        return false;
    }

    private static readonly SearchValues<char> Base64Characters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

    private static bool IsMostlyPrintable(ReadOnlySpan<byte> bytes)
    {
        var printable = 0;
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t')
            {
                printable++;
            }
        }

        return bytes.Length > 0 && printable * 10 >= bytes.Length * 9;
    }

    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.ExplicitCapture | RegexOptions.IgnorePatternWhitespace;

    [GeneratedRegex("""
        \b(?:ignore|disregard|forget|override|bypass|skip|discard|drop|abandon)\b [\w\s,'"-]{0,40}?
        \b(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system|all|any|every|your|developer'?s?)\b [\w\s,'"-]{0,30}?
        \b(?:instructions?|prompts?|rules|directives?|guidelines|constraints|programming|guardrails|restrictions|policies|safeguards|filters|commands)\b
        """, Options)]
    private static partial Regex OverridePattern();

    [GeneratedRegex("""
        \b(?:new|updated|real|actual|true)\ (?:system\ )?(?:instructions|rules|directives?|task|prompt)\s*:
        |\bfrom\ now\ on\b.{0,40}\b(?:you\ (?:are|will|must|shall|have)|ignore|only\ obey|respond\ only)
        |\byour\ (?:new|real|true)\ (?:instructions|purpose|task|role)\ (?:is|are)\b
        """, Options)]
    private static partial Regex NewInstructionsPattern();

    [GeneratedRegex("""
        \b(?:reveal|print|show|display|repeat|output|leak|dump|tell\ me|give\ me|share|recite|what\ (?:is|are|was|were))\b [\w\s,'"-]{0,30}?
        \b(?:your|the)\ (?:full\ |entire\ |original\ |exact\ |complete\ |hidden\ |secret\ |initial\ )?
        (?:system\ (?:prompt|message|instructions)|initial\ (?:instructions|prompt)|hidden\ (?:instructions|prompt)|developer\ (?:message|instructions|prompt)|pre-?prompt|instructions\ (?:above|verbatim))
        |\brepeat\b.{0,30}\b(?:words|text|everything|all)\ (?:above|before\ this)
        |\b(?:everything|all\ text)\ (?:above|before)\ (?:this\ line\ )?verbatim
        """, Options)]
    private static partial Regex PromptLeakPattern();

    [GeneratedRegex("""
        \b(?:pretend|imagine|act\ as\ if|act\ like|act\ as|roleplay|role-play|you\ are\ now|you're\ now|from\ now\ on\ you\ are|simulate|play\ the\ role)\b
        .{0,100}?
        \b(?:no|without|free\ (?:of|from)|not\ bound\ by|ignor\w*|lacks?|zero|bypass\w*)\s+(?:any\s+|all\s+|the\s+)?(?:\w+\s+)?
        (?:restrictions|limitations|limits|rules|filters|guidelines|censorship|ethics|ethical|morals?|moral|content\ polic\w*|safety|boundaries|constraints|programming)
        """, Options)]
    private static partial Regex RolePlayEscapePattern();

    [GeneratedRegex("""
        \b(?:no\ longer|not|never)\ (?:be\ )?(?:bound|restricted|limited|constrained|governed)\ by\b
        |\byou\ (?:have|now\ have|possess)\ no\ (?:rules|restrictions|limits|filters|guidelines|ethics)
        |\b(?:unfiltered|uncensored|unrestricted|unaligned|amoral)\ (?:ai|assistant|model|mode|version|chatbot|responses?|answers?|llm)\b
        |\bcan\ do\ anything\ now\b
        """, Options)]
    private static partial Regex UnboundPattern();

    [GeneratedRegex("""
        \b(?:developer|god|dev|debug|sudo|admin|evil|chaos|opposite)\ mode\b.{0,60}\b(?:enabled|activated|on|unlocked|engaged|enable|activate)\b
        |\b(?:enable|activate|enter|switch\ to|turn\ on)\ (?:developer|god|dev|debug|sudo|evil|chaos|unrestricted)\ mode\b
        |\bstay\ in\ character\b
        |\b(?:as|you\ are)\ (?:DAN|STAN|DUDE|AIM|AntiGPT|BetterDAN|EvilBOT)\b
        """, Options)]
    private static partial Regex PersonaPattern();

    [GeneratedRegex(@"\bjailbr(?:eak|oken)\b|\bdo\ anything\ now\b", Options)]
    private static partial Regex JailbreakWordPattern();

    [GeneratedRegex("""
        <\|im_start\|>|<\|im_end\|>|<\|system\|>|<\|endoftext\|>|\[/?INST\]|<</?SYS>>|</?system>
        |(?m:^\s*\#{2,}\s*(?:system|new\ instructions?)\b)
        |\b(?:end|begin)\ of\ (?:system\ |user\ )?(?:prompt|instructions)\b
        |(?m:^\s*system\s*:\s*you\ (?:are|must|will)\b)
        """, Options)]
    private static partial Regex DelimiterPattern();

    [GeneratedRegex("""
        \b(?:decode|decipher|base64-?decode|translate|unscramble|reverse)\b.{0,60}\b(?:and|then)\s+(?:follow|execute|obey|do\ what|run|carry\ out|act\ on|comply)
        """, Options)]
    private static partial Regex DecodeAndObeyPattern();

    [GeneratedRegex("[a-z]", Options)]
    private static partial Regex AsciiLetterPattern();

}
