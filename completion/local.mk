# Shell completion for kairos-bridge (configure.ac: --with-bashcompletiondir,
# by default what `pkg-config --variable=completionsdir bash-completion`
# says; --with-zshcompletiondir, by default DATADIR/zsh/site-functions).
if BUILD_BRIDGE
dist_bashcompletion_DATA = completion/bash/kairos-bridge
dist_zshcompletion_DATA = completion/zsh/_kairos-bridge
else
EXTRA_DIST += completion/bash/kairos-bridge completion/zsh/_kairos-bridge
endif
