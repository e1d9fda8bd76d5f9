# bash completion for flockctl (installed as share/bash-completion/completions/flockctl)
_flockctl()
{
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmds="show watch check info leave force-leave keygen meta help"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
        return 0
    fi
    cmd=${COMP_WORDS[1]}
    case "$prev" in
        -v|--verbose)
            COMPREPLY=($(compgen -W "trace debug info warning error critical" -- "$cur")); return 0 ;;
        -a|--address|-p|--provider-id|-t|--timeout|-i|--interval|-n|--count|--duration|--protocol)
            return 0 ;;
    esac
    local common="--address --provider-id --timeout --protocol --verbose --help"
    local opts=""
    case "$cmd" in
        show) opts="$common --json --all" ;;
        watch) opts="$common --json --interval --count --duration" ;;
        check|info) opts="$common --json" ;;
        leave|force-leave) opts="$common --member --member-provider-id" ;;
        keygen) opts="--help" ;;
        meta)
            if [ "$COMP_CWORD" -eq 2 ]; then
                COMPREPLY=($(compgen -W "get set unset" -- "$cur")); return 0
            fi
            opts="$common" ;;
        help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")); return 0 ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
}
complete -o filenames -F _flockctl flockctl
