namespace LlmGateway.Guardrails.Detection;

/// <summary>
/// The check-digit and range rules that separate real identifiers from numbers that merely look like them, so that
/// order numbers, tracking codes and random digit runs are not redacted as cards or bank accounts.
/// </summary>
internal static class Checksums
{
    /// <summary>Luhn (mod 10) over the digits of <paramref name="text"/>, ignoring spaces and dashes.</summary>
    public static bool PassesLuhn(ReadOnlySpan<char> text)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            var c = text[i];
            if (c is ' ' or '-')
            {
                continue;
            }

            var digit = c - '0';
            if (doubleIt)
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }

            sum += digit;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }

    /// <summary>
    /// Whether the digits form a number a card network issues: a known brand prefix with that brand's length.
    /// Luhn alone accepts one random number in ten; the prefix rule removes most of the rest.
    /// </summary>
    public static bool IsIssuedCardNumber(ReadOnlySpan<char> digits)
    {
        var length = digits.Length;
        if (length is < 13 or > 19)
        {
            return false;
        }

        var two = (digits[0] - '0') * 10 + (digits[1] - '0');
        var four = two * 100 + (digits[2] - '0') * 10 + (digits[3] - '0');
        var six = four * 100 + (digits[4] - '0') * 10 + (digits[5] - '0');
        return digits[0] switch
        {
            '4' => length is 13 or 16 or 19,                                                   // Visa
            '5' => two is >= 51 and <= 55 && length == 16,                                     // Mastercard
            '2' => four is >= 2221 and <= 2720 && length == 16,                                // Mastercard 2-series
            '3' => (two is 34 or 37 && length == 15)                                          // American Express
                   || (four is >= 3528 and <= 3589 && length is >= 16 and <= 19)               // JCB
                   || ((two is 36 or 38 || (two == 30 && digits[2] is >= '0' and <= '5')) && length is >= 14 and <= 19), // Diners
            '6' => ((four == 6011 || two == 65 || (six / 1000) is >= 644 and <= 649) && length is >= 16 and <= 19) // Discover
                   || (two == 62 && length is >= 16 and <= 19),                                // UnionPay
            _ => false,
        };
    }

    /// <summary>ISO 13616 IBAN check: the country's length and the mod-97 remainder of the rearranged number.</summary>
    public static bool IsValidIban(ReadOnlySpan<char> compact)
    {
        if (compact.Length < 15 || compact.Length > 34 || !char.IsAsciiLetterUpper(compact[0]) || !char.IsAsciiLetterUpper(compact[1]))
        {
            return false;
        }

        var expected = IbanLength(compact[0], compact[1]);
        if (expected == 0 || expected != compact.Length)
        {
            return false;
        }

        // Move the country code and check digits to the end, letters become 10..35, and reduce mod 97 as we go.
        var remainder = 0;
        for (var i = 0; i < compact.Length; i++)
        {
            var c = compact[(i + 4) % compact.Length];
            if (char.IsAsciiDigit(c))
            {
                remainder = (remainder * 10 + (c - '0')) % 97;
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            }
            else
            {
                return false;
            }
        }

        return remainder == 1;
    }

    /// <summary>
    /// US Social Security numbers as issued: never area 000, 666 or 900-999, group 00 or serial 0000, and not the
    /// well-known advertising numbers that were printed on sample cards.
    /// </summary>
    public static bool IsIssuableSsn(int area, int group, int serial) =>
        area is > 0 and < 900 and not 666
        && group > 0
        && serial > 0
        && !(area == 78 && group == 5 && serial == 1120)
        && !(area == 219 && group == 9 && serial == 9999);

    // Lengths from the IBAN registry for the countries that issue IBANs; a length mismatch rejects the candidate.
    private static int IbanLength(char first, char second) => (first, second) switch
    {
        ('A', 'D') => 24, ('A', 'E') => 23, ('A', 'L') => 28, ('A', 'T') => 20, ('A', 'Z') => 28,
        ('B', 'A') => 20, ('B', 'E') => 16, ('B', 'G') => 22, ('B', 'H') => 22, ('B', 'R') => 29, ('B', 'Y') => 28,
        ('C', 'H') => 21, ('C', 'R') => 22, ('C', 'Y') => 28, ('C', 'Z') => 24,
        ('D', 'E') => 22, ('D', 'K') => 18, ('D', 'O') => 28,
        ('E', 'E') => 20, ('E', 'G') => 29, ('E', 'S') => 24,
        ('F', 'I') => 18, ('F', 'O') => 18, ('F', 'R') => 27,
        ('G', 'B') => 22, ('G', 'E') => 22, ('G', 'I') => 23, ('G', 'L') => 18, ('G', 'R') => 27, ('G', 'T') => 28,
        ('H', 'R') => 21, ('H', 'U') => 28,
        ('I', 'E') => 22, ('I', 'L') => 23, ('I', 'Q') => 23, ('I', 'S') => 26, ('I', 'T') => 27,
        ('J', 'O') => 30, ('K', 'W') => 30, ('K', 'Z') => 20,
        ('L', 'B') => 28, ('L', 'C') => 32, ('L', 'I') => 21, ('L', 'T') => 20, ('L', 'U') => 20, ('L', 'V') => 21,
        ('M', 'C') => 27, ('M', 'D') => 24, ('M', 'E') => 22, ('M', 'K') => 19, ('M', 'R') => 27, ('M', 'T') => 31, ('M', 'U') => 30,
        ('N', 'L') => 18, ('N', 'O') => 15,
        ('P', 'K') => 24, ('P', 'L') => 28, ('P', 'S') => 29, ('P', 'T') => 25,
        ('Q', 'A') => 29, ('R', 'O') => 24, ('R', 'S') => 22,
        ('S', 'A') => 24, ('S', 'C') => 31, ('S', 'E') => 24, ('S', 'I') => 19, ('S', 'K') => 24, ('S', 'M') => 27, ('S', 'V') => 28,
        ('T', 'L') => 23, ('T', 'N') => 24, ('T', 'R') => 26,
        ('U', 'A') => 29, ('V', 'A') => 22, ('V', 'G') => 24, ('X', 'K') => 20,
        _ => 0,
    };
}
